import type { AgentRun, RunContext } from '../../src/agent/create-runtime.js';

/** One run the test controls: resolve it, fail it, or see it aborted. */
export interface PendingRun {
  input: string;
  context: RunContext;
  resolve(output: string): void;
  reject(error: unknown): void;
  aborted: boolean;
}

/** A run function whose runs are settled by the test, in the order it chooses. */
export function controllableRun(): { run: AgentRun; runs: PendingRun[]; active(): PendingRun[] } {
  const runs: PendingRun[] = [];
  const run: AgentRun = (input, context) =>
    new Promise<string>((resolve, reject) => {
      const pending: PendingRun = { input, context, resolve, reject, aborted: false };
      context.signal.addEventListener('abort', () => {
        pending.aborted = true;
        reject(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
      });
      runs.push(pending);
    });
  return { run, runs, active: () => runs.filter((pending) => !pending.aborted) };
}
