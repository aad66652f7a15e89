/**
 * The one retry of an answer that does not match the task's output schema:
 * a follow-up input to the same handle, through its queue, so the chart owns
 * the extra run like any other (its spend, limits and outcome); the task's
 * end is then that run's, its work added to the first run's.
 */
import type { z } from 'zod';
import { addUsage } from '../usage.js';
import type { RunReport } from '../machines/handle-types.js';
import type { HandleApi } from '../runtime/runtime-types.js';
import type { TaskEnd } from './durable-delegations.js';
import { parseAnswer, retryMessage } from './checked-result.js';

/** How a task ended once its answer was checked: the end to report, and the answers checked (1 or 2). */
export interface CheckedEnd {
  end: TaskEnd;
  attempts: number;
}

/**
 * The end of a task whose goal ended with `first`: as it is, unless its run
 * completed with an answer the schema refuses; then the child gets the
 * problems as one more input and the task ends with that run. A retry that
 * cannot be sent (the handle was closed meanwhile) or is handed back leaves
 * the first end.
 */
export async function endAfterRetry(core: Pick<HandleApi, 'listen' | 'enqueue'>, handleId: string, first: TaskEnd, schema: z.core.$ZodType | undefined): Promise<CheckedEnd> {
  const run = first.run;
  if (!schema || !run || run.outcome !== 'completed') return { end: first, attempts: 1 };
  const parsed = await parseAnswer(schema, run.output ?? '', 1);
  if (parsed.ok) return { end: first, attempts: 1 };
  let seq = -1;
  let stop = () => {};
  const retried = new Promise<RunReport | null>((resolve) => {
    stop = core.listen(handleId, (event) => {
      if (event.type !== 'input-end' || event.input.seq !== seq) return;
      stop();
      resolve(event.run);
    });
  });
  try {
    seq = core.enqueue(handleId, retryMessage(parsed.error)).seq;
  } catch {
    stop();
    return { end: first, attempts: 1 };
  }
  const second = await retried;
  return second ? { end: { run: joinRuns(run, second), handedBack: null }, attempts: 2 } : { end: first, attempts: 1 };
}

/** The retry's report with the first run's work added: calls, tokens, tool calls and time. */
function joinRuns(first: RunReport, second: RunReport): RunReport {
  const usage = { ...first.stats.usage };
  addUsage(usage, second.stats.usage);
  return {
    ...second,
    stats: { ...second.stats, apiCalls: first.stats.apiCalls + second.stats.apiCalls, usage, toolTrace: [...first.stats.toolTrace, ...second.stats.toolTrace] },
    durationMs: first.durationMs + second.durationMs,
  };
}
