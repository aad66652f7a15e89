/** `agent_status`: one of the caller's subagents in full, its last output included. */
import { z } from 'zod';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { ownHandles, resolveTarget } from './targets.js';
import { handleView } from '../toolkit/tool-result.js';
import { handleIdSchema } from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

const parametersSchema = () =>
  z.object({
    target: handleIdSchema().optional().describe('Handle id of your subagent. Default: your most recently updated open subagent.'),
  });

/**
 * Creates `agent_status`.
 *
 * @example
 * ```ts
 * const agentStatus = createAgentStatusTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createAgentStatusTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'agent_status',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'The status of one of your subagents: running or not, its last input and full last output, its error, queue, ' +
        'tokens, and while it runs what it is doing (model calls, current tool, a call waiting for approval, its last text). ' +
        'It does not wait: use wait_agent to wait for a result.',
    }),
    execute: (args, context) => {
      const handle = resolveTarget(runtime, context.handleId, args.target);
      return { handle: handleView(handle), subagents: ownHandles(runtime, handle.id).length };
    },
  });
}
