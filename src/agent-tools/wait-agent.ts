/** `wait_agent`: waits, without polling, until the caller's subagents stop running or a timeout passes. */
import { z } from 'zod';
import { abortable } from '../toolkit/abortable.js';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { resolveTarget } from './targets.js';
import { checkView, handleView } from '../toolkit/tool-result.js';
import type { AgentToolsRuntime } from './agent-tool-settings.js';
import type { DelegationResult, HandleSnapshot } from '../types.js';
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
      const bounded = Math.round(Math.min(Math.max(requested, minWaitMs), maxWaitMs));
      // A wait never outlives its caller's deadline.
      const callerDeadline = runtime.budget(caller)?.deadline ?? null;
      const untilDeadline = callerDeadline === null ? Infinity : Math.max(0, Date.parse(callerDeadline) - Date.now());
      const timeoutMs = Math.min(bounded, untilDeadline);
      const clamped = timeoutMs < bounded ? 'lowered to your deadline' : requested < minWaitMs ? 'raised to the minimum' : requested > maxWaitMs ? 'lowered to the maximum' : null;
      const deadline = Date.now() + timeoutMs;
      const waiting = abortable(
        runtime.wait([...new Set(ids)], { timeoutMs, signal: context.signal }).then((result) => withChecks(runtime, result, deadline)),
        context.signal,
      );
      const result = await (context.waitingFor ? context.waitingFor(waiting) : waiting);
      return {
        completed: result.completed.map((handle) => ({ ...handleView(handle), ...checkedFields(result.checks.get(handle.id)) })),
        pending: result.pending.map(handleView),
        timedOut: result.timedOut,
        timeoutMs,
        ...(clamped !== null ? { clamped: `timeout_ms ${requested} was ${clamped} of ${timeoutMs} ms` } : {}),
      };
    },
  });
}

/** A delegated task's checks as the model reads them beside its handle. */
const checkedFields = (task: DelegationResult | undefined) => (task ? { taskStatus: task.status, ...checkView(task) } : {});

/**
 * Waits (until the deadline) for the checks of the delegated tasks among the
 * handles that stopped running: an output schema's retry runs the handle
 * again, and a task is reported with its verdict. Handles are read again
 * afterwards, so one running its retry shows as pending.
 */
async function withChecks(runtime: AgentToolsRuntime, result: { completed: HandleSnapshot[]; pending: HandleSnapshot[]; timedOut: boolean }, deadline: number) {
  const checks = new Map<string, DelegationResult>();
  const tasks = result.completed.flatMap((handle) => {
    const task = runtime.taskResult?.(handle.id);
    return task ? [task.then((checked) => void checks.set(handle.id, checked))] : [];
  });
  if (tasks.length === 0) return { ...result, checks };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  await Promise.race([Promise.all(tasks), late]).finally(() => clearTimeout(timer));
  const now = result.completed.map((handle) => (runtime.taskResult?.(handle.id) ? runtime.get(handle.id) : handle));
  const stillRunning = now.filter((handle) => handle.status === 'running');
  return {
    completed: now.filter((handle) => handle.status !== 'running'),
    pending: [...result.pending, ...stillRunning],
    timedOut: result.timedOut || stillRunning.length > 0,
    checks,
  };
}

function parserSchema() {
  return advertisedSchema().extend({
    targets: z.preprocess(oneOrMany, targetsSchema()).optional(),
    timeout_ms: z.preprocess(finiteMilliseconds, z.number().min(0, 'expected a number of milliseconds >= 0')).optional(),
  });
}
