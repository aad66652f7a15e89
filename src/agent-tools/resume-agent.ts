/** `resume_agent`: reopens a closed subagent of the caller, or lets an interrupted one go on with its queue. */
import { z } from 'zod';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { resolveTarget } from './targets.js';
import { AgentToolError } from '../toolkit/tool-error.js';
import { handleView } from '../toolkit/tool-result.js';
import { handleIdSchema } from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

const parametersSchema = () =>
  z.object({
    target: handleIdSchema().describe('Handle id of your closed or interrupted subagent.'),
  });

/**
 * Creates `resume_agent`. Its target is required: reopening is never guessed.
 *
 * @example
 * ```ts
 * const resumeAgent = createResumeAgentTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createResumeAgentTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'resume_agent',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'Resume one of your subagents. A closed one is reopened, idle, keeping its conversation; an interrupted one ' +
        'goes on with its queued inputs (or becomes idle when it has none).',
    }),
    execute: (args, context) => {
      const before = resolveTarget(runtime, context.handleId, args.target);
      if (before.status !== 'closed' && before.status !== 'interrupted') {
        throw new AgentToolError(
          'not_resumable',
          'target',
          `Expected \`target\` to be a closed or interrupted subagent, got \`${before.id}\` (status ${before.status}); use send_input to give it work.`,
        );
      }
      const after = runtime.resume(before.id);
      return { previousStatus: before.status, handle: handleView(after) };
    },
  });
}
