/** `wait_agent`: waits, without polling, until the caller's subagents stop running or a timeout passes. */
import { z } from 'zod';
import { abortable } from '../toolkit/abortable.js';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { resolveTarget } from './targets.js';
import { handleView } from '../toolkit/tool-result.js';
import { LIST_LIMIT, handleIdSchema } from '../toolkit/tool-schemas.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

const targetsSchema = () =>
  z
    .array(handleIdSchema())
    .min(1, 'expected at least one handle id (or leave targets out)')
    .max(LIST_LIMIT, `expected at most ${LIST_LIMIT} handle ids`);

const advertisedSchema = () =>
  z.object({
    targets: targetsSchema().optional().describe('Handle ids of your subagents. Default: your most recently updated open subagent.'),
    timeout_ms: z.number().min(0, 'expected a number of milliseconds >= 0').optional(),
  });

/** One id where a list was expected is taken as that list. */
const oneOrMany = (value: unknown): unknown => (typeof value === 'string' ? [value] : value);

/** JSON turns 1e309 into Infinity: say so instead of "expected number, got number". */
function finiteMilliseconds(value: unknown, context: z.core.$RefinementCtx): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    context.addIssue({ code: 'custom', input: value, message: 'expected a finite number of milliseconds' });
  }
  return value;
}

/**
 * Creates `wait_agent`. Timeouts are clamped to the settings' range, and the
 * result says when they were.
 *
 * @example
 * ```ts
 * const waitAgent = createWaitAgentTool(resolveAgentToolsSettings(runtime, { minWaitMs: 500 }));
 * ```
 */
export function createWaitAgentTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parserSchema>, unknown> {
  const { runtime, minWaitMs, maxWaitMs, defaultWaitMs } = settings;
  return defineDynamicTool({
    name: 'wait_agent',
    toolset: DELEGATION_TOOLSET,
    parameters: parserSchema(),
    advertised: advertisedSchema(),
    describe: () => ({
      description:
        'Wait until your subagents are no longer running, or until the timeout. Returns `completed` (with their ' +
        'outputs) and `pending` (still running). It wakes when they finish, so there is no need to call it in a loop ' +
        'with short timeouts.',
      properties: [
        {
          path: ['timeout_ms'],
          description: `How long to wait at most, in milliseconds, from ${minWaitMs} to ${maxWaitMs} (other values are clamped). Default: ${defaultWaitMs}.`,
        },
      ],
    }),
    execute: async (args, context) => {
      const caller = context.handleId;
      const ids =
        args.targets === undefined
          ? [resolveTarget(runtime, caller, undefined, 'targets').id]
          : args.targets.map((target, index) => resolveTarget(runtime, caller, target, `targets[${index}]`).id);
      const requested = args.timeout_ms ?? defaultWaitMs;
      const timeoutMs = Math.round(Math.min(Math.max(requested, minWaitMs), maxWaitMs));
      const clamped = requested < minWaitMs ? 'raised to the minimum' : requested > maxWaitMs ? 'lowered to the maximum' : null;
      const waiting = abortable(runtime.wait([...new Set(ids)], { timeoutMs, signal: context.signal }), context.signal);
      const result = await (context.waitingFor ? context.waitingFor(waiting) : waiting);
      return {
        completed: result.completed.map(handleView),
        pending: result.pending.map(handleView),
        timedOut: result.timedOut,
        timeoutMs,
        ...(clamped !== null ? { clamped: `timeout_ms ${requested} was ${clamped} of ${timeoutMs} ms` } : {}),
      };
    },
  });
}

function parserSchema() {
  return advertisedSchema().extend({
    targets: z.preprocess(oneOrMany, targetsSchema()).optional(),
    timeout_ms: z.preprocess(finiteMilliseconds, z.number().min(0, 'expected a number of milliseconds >= 0')).optional(),
  });
}
