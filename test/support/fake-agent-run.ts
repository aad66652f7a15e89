import { fromPromise } from 'xstate';
import type { RunRequest, RunResult } from '../../src/machines/handle.js';

/** One invocation of the fake `agentRun` actor, settled by the test. */
export interface FakeAgentRun {
  request: RunRequest;
  signal: AbortSignal;
  /** True once the test resolved or rejected it. */
  settled: boolean;
  /** True if the signal fired before the test settled it. */
  readonly aborted: boolean;
  resolve(result: RunResult): void;
  reject(error: unknown): void;
}

/**
 * A `fromPromise` stand-in for the handle's `agentRun` actor: every
 * invocation is recorded and stays pending until the test settles it.
 */
export function fakeAgentRun() {
  const runs: FakeAgentRun[] = [];
  const logic = fromPromise<RunResult, RunRequest>(
    ({ input, signal }) =>
      new Promise<RunResult>((resolve, reject) => {
        const run: FakeAgentRun = {
          request: input,
          signal,
          settled: false,
          get aborted() {
            return signal.aborted;
          },
          resolve(result) {
            run.settled = true;
            resolve(result);
          },
          reject(error) {
            run.settled = true;
            // Runs may fail with anything; the timeout case is a plain object with a `code`.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            reject(error);
          },
        };
        runs.push(run);
      }),
  );
  return {
    logic,
    runs,
    /** Runs neither settled nor aborted. */
    active: () => runs.filter((run) => !run.settled && !run.signal.aborted),
  };
}

/** Resolves after every pending microtask (promise settlements and what they trigger) has run. */
export const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
