import type { AgentRun } from '../../src/agent/create-runtime.js';

/** One run of a handle, settled by the test. */
export interface TrackedRun {
  handleId: string;
  runId: number;
  input: string;
  signal: AbortSignal;
  /** True once the test resolved or rejected it. */
  settled: boolean;
  resolve(output: string): void;
  reject(error: unknown): void;
}

/**
 * A run function that behaves like a well-written run: it stays pending until
 * the test settles it, and rejects with the signal's reason the moment it is
 * aborted. Every run is recorded with the handle and run id it belongs to.
 */
export function trackedRun(): { run: AgentRun; runs: TrackedRun[]; active(): TrackedRun[] } {
  const runs: TrackedRun[] = [];
  const run: AgentRun = (input, context) =>
    new Promise<string>((resolve, reject) => {
      const tracked: TrackedRun = {
        handleId: context.handle.id,
        runId: context.runId,
        input,
        signal: context.signal,
        settled: false,
        resolve(output) {
          tracked.settled = true;
          resolve(output);
        },
        reject(error) {
          tracked.settled = true;
          // Runs may fail with anything, not only Errors.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        },
      };
      const abortError = () => (context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
      context.signal.addEventListener('abort', () => reject(abortError()), { once: true });
      runs.push(tracked);
    });
  return { run, runs, active: () => runs.filter((tracked) => !tracked.settled && !tracked.signal.aborted) };
}

/**
 * Resolves after every pending microtask (promise settlements and what they trigger) has run: runs that started
 * have had their run function called, and events and hooks have been delivered.
 */
export const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
