/** A delegated task's result as its child's chart reported its goal's end: nothing is made up beside it. */
import { addUsage, noUsage } from '../usage.js';
import { costAt } from '../machines/budget.js';
import type { ExitReason, ModelPrices, Usage, WorktreeReport } from '../types.js';
import type { HandleApi } from '../runtime/runtime-types.js';
import type { TaskEnd } from './durable-delegations.js';
import type { UncheckedResult } from './checked-result.js';

/** Dollars of a usage at the model's price, or `null` without one. */
export function costOf(prices: ModelPrices | undefined, model: string | null, usage: Usage): number | null {
  const price = model ? prices?.[model] : undefined;
  return price ? costAt(price, usage) : null;
}

/** The result of one task from its end: the child's own run plus whatever its descendants spent. */
export function taskResultOf(
core: Pick<HandleApi, 'setupOf' | 'subtree' | 'get'>,
pricesOf: (provider: string | null) => ModelPrices | undefined,
{ taskIndex, goal, handleId, end, worktree }: { taskIndex: number; goal: string; handleId: string; end: TaskEnd; worktree: WorktreeReport | null },
): UncheckedResult {
  const setup = core.setupOf(handleId);
  const model = setup?.model ?? 'custom';
  // The child's own run plus whatever its descendants spent.
  const tokens: Usage = end.run ? { ...end.run.stats.usage } : noUsage();
  for (const member of core.subtree(handleId)) {
    if (member === handleId) continue;
    addUsage(tokens, core.get(member).usage);
  }
  const ending = end.run ? runEnding(end.run) : notStarted(end);
  // Every field in one literal, in one order: a result built by spreading and adding 20-odd fields one by one
  // is a slow, dictionary-mode object.
  return {
    taskIndex,
    handleId,
    goal,
    usage: tokens,
    cost: costOf(pricesOf(setup?.provider ?? null), model, tokens),
    model,
    deniedToolsets: setup?.deniedToolsets ?? [],
    degradedToLeaf: setup?.degradedToLeaf ?? false,
    worktree,
    status: ending.status,
    summary: ending.summary,
    partialOutput: ending.partialOutput,
    exitReason: ending.exitReason,
    apiCalls: ending.apiCalls,
    durationMs: ending.durationMs,
    toolTrace: ending.toolTrace,
    error: ending.error,
    errorCode: ending.errorCode,
  };
}

type Ending = Pick<UncheckedResult, 'status' | 'summary' | 'partialOutput' | 'exitReason' | 'apiCalls' | 'durationMs' | 'toolTrace' | 'error' | 'errorCode'>;

/** A task whose child never started it: handed back. */
function notStarted(end: Extract<TaskEnd, { run: null }>): Ending {
  const error = end.reason ?? `The subagent was ${end.handedBack} before it started its task.`;
  const status = end.handedBack === 'interrupted' ? 'interrupted' : 'cancelled';
  return { status, summary: error, partialOutput: null, exitReason: 'interrupted', apiCalls: 0, durationMs: 0, toolTrace: [], error, errorCode: null };
}

/** A task as its child's run ended it. */
function runEnding(run: NonNullable<TaskEnd['run']>): Ending {
  const exitReason: ExitReason =
    run.outcome === 'completed'
      ? 'completed'
      : run.outcome === 'cancelled'
        ? 'interrupted'
        : run.errorCode === 'max_iterations'
          ? 'max_iterations'
          : run.outcome;
  const fallback = run.outcome === 'interrupted' ? 'The subagent was interrupted before it finished.' : 'The subagent was cancelled before it finished.';
  return {
    status: run.outcome,
    summary: run.outcome === 'completed' ? (run.output ?? '') : (run.error ?? fallback),
    partialOutput: run.partialOutput,
    exitReason,
    apiCalls: run.stats.apiCalls,
    durationMs: Math.round(run.durationMs),
    toolTrace: run.stats.toolTrace,
    error: run.outcome === 'completed' ? null : (run.error ?? fallback),
    errorCode: run.errorCode,
  };
}
