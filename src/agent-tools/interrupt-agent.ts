/** `interrupt_agent`: aborts the current run of one of the caller's subagents, keeping its queue. */
import { z } from 'zod';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { resolveTarget, subtreeIsRunning } from './targets.js';
import { AgentToolError } from '../toolkit/tool-error.js';
import { handleView } from '../toolkit/tool-result.js';
import { handleIdSchema } from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

const parametersSchema = () =>
  z.object({
    target: handleIdSchema().optional().describe('Handle id of your subagent. Default: your most recently updated open subagent.'),
  });

/**
 * Creates `interrupt_agent`.
 *
 * @example
 * ```ts
 * const interruptAgent = createInterruptAgentTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createInterruptAgentTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'interrupt_agent',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'Stop what one of your subagents is doing now (its model request and tool call are aborted, and so are the ' +
        'subagents it started). Its queued inputs are kept: send_input or resume_agent goes on with them. ' +
        'To stop it for good, use close_agent.',
    }),
    execute: (args, context) => {
      const before = resolveTarget(runtime, context.handleId, args.target);
      if (before.closed) {
        throw new AgentToolError('handle_closed', 'target', `Expected \`target\` to be a running subagent, got \`${before.id}\`, which is closed: there is nothing to interrupt.`);
      }
      if (!subtreeIsRunning(runtime, before.id)) {
        throw new AgentToolError(
          'not_running',
          'target',
          `Expected \`target\` to be a running subagent, got \`${before.id}\` (status ${before.status}, and nothing below it runs): there is nothing to interrupt.`,
        );
      }
      const after = runtime.interrupt(before.id);
      return {
        previousStatus: before.status,
        handle: handleView(after),
        note: after.queueSize > 0 ? `Interrupted; ${after.queueSize} queued input(s) kept: resume_agent goes on with them.` : 'Interrupted.',
      };
    },
  });
}
