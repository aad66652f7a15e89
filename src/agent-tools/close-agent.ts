/** `close_agent`: stops one of the caller's subagents for good and hands back what it had not processed. */
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
    target: handleIdSchema().optional().describe('Handle id of your subagent. Default: your most recently updated open subagent.'),
  });

/**
 * Creates `close_agent`.
 *
 * @example
 * ```ts
 * const closeAgent = createCloseAgentTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createCloseAgentTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'close_agent',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'Close one of your subagents: its run (and the subagents it started) are stopped, it frees its slot and takes ' +
        'no more input. Returns its status before closing and the inputs it had not processed. resume_agent reopens it.',
    }),
    execute: (args, context) => {
      const before = resolveTarget(runtime, context.handleId, args.target);
      if (before.closed) {
        throw new AgentToolError('handle_closed', 'target', `Expected \`target\` to be an open subagent, got \`${before.id}\`, which is already closed; resume_agent reopens it.`);
      }
      const closed = runtime.close(before.id);
      const descendants = closed.descendants.filter((entry) => entry.previousStatus !== 'closed');
      return {
        previousStatus: closed.previousStatus,
        unprocessed: closed.unprocessed,
        handle: handleView(closed.handle),
        ...(descendants.length > 0 ? { closedBelow: descendants } : {}),
      };
    },
  });
}
