/** `list_agents`: the caller's subagents and their statuses. */
import { z } from 'zod';
import type { HandleStatus } from '../types.js';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { ownHandles } from './targets.js';
import { handleSummary } from '../toolkit/tool-result.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

/** Most handles one answer lists. */
const LISTED_LIMIT = 100;

const STATUSES = ['idle', 'running', 'completed', 'error', 'interrupted', 'cancelled', 'closed'] as const satisfies readonly HandleStatus[];

const parametersSchema = () =>
  z.object({
    status: z.enum(STATUSES).optional().describe('Only subagents with this status. Default: all.'),
  });

/**
 * Creates `list_agents`.
 *
 * @example
 * ```ts
 * const listAgents = createListAgentsTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createListAgentsTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'list_agents',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'List the subagents you spawned (by spawn_agent or delegate_task), oldest first (the newest 100 at most), with status, queue, a ' +
        'preview of their last output and, for running ones, what they are doing. agent_status gives one in full.',
    }),
    execute: (args, context) => {
      const own = ownHandles(runtime, context.handleId);
      const counts: Partial<Record<HandleStatus, number>> = {};
      for (const handle of own) counts[handle.status] = (counts[handle.status] ?? 0) + 1;
      const matching = args.status === undefined ? own : own.filter((handle) => handle.status === args.status);
      // A long-lived agent may have spawned hundreds: the newest are the ones it is most likely after.
      const shown = matching.slice(-LISTED_LIMIT);
      return {
        total: own.length,
        counts,
        agents: shown.map(handleSummary),
        ...(matching.length > shown.length ? { omitted: `${matching.length - shown.length} older subagents are not shown` } : {}),
      };
    },
  });
}
