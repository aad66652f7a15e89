/** `extend_deadline`: gives one of the caller's subagents more time, within the caller's own deadline. */
import { z } from 'zod';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { resolveTarget } from './targets.js';
import { AgentToolError } from '../toolkit/tool-error.js';
import { handleView } from '../toolkit/tool-result.js';
import { handleIdSchema } from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';
import { MAX_BUDGET_MS } from '../budget-errors.js';

const parametersSchema = () =>
  z.object({
    target: handleIdSchema().optional().describe('Handle id of your subagent. Default: your most recently updated open subagent.'),
    extend_ms: z.number().int('expected whole milliseconds').positive('expected a number of milliseconds > 0').max(MAX_BUDGET_MS, `expected at most ${MAX_BUDGET_MS} ms`).describe('How much later its deadline becomes, in milliseconds.'),
  });

/**
 * Creates `extend_deadline`: only a handle's parent may call it for that
 * handle (an agent sees only the subagents it spawned), and the new deadline
 * is never past the caller's own.
 *
 * @example
 * ```ts
 * const extendDeadline = createExtendDeadlineTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createExtendDeadlineTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parametersSchema>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'extend_deadline',
    toolset: DELEGATION_TOOLSET,
    parameters: parametersSchema(),
    describe: () => ({
      description:
        'Give one of your subagents more time: its deadline moves `extend_ms` later (never past your own deadline). ' +
        'A subagent still working at its deadline is stopped with outcome `timeout`, keeping what it wrote so far.',
    }),
    execute: (args, context) => {
      const before = resolveTarget(runtime, context.handleId, args.target);
      if (before.closed) {
        throw new AgentToolError('handle_closed', 'target', `Expected \`target\` to be an open subagent, got \`${before.id}\`, which is closed.`);
      }
      const previous = before.budget?.deadline ?? null;
      const after = runtime.extendDeadline(before.id, args.extend_ms);
      const deadline = after.budget?.deadline ?? null;
      const capped = deadline !== null && previous !== null && Date.parse(deadline) < Date.parse(previous) + args.extend_ms;
      return {
        handle: handleView(after),
        previousDeadline: previous,
        deadline,
        ...(capped ? { note: 'Capped at your own deadline.' } : {}),
      };
    },
  });
}
