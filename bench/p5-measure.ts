/**
 * One P5 measurement: N handles under one supervisor (core runtime, a run
 * function that resolves at once, 16 runs at a time): spawn them all, send
 * one input to each, wait for every run to end, close them all. Heap per
 * idle handle is measured between spawning and the first send, handles held.
 */
import { performance } from 'node:perf_hooks';
import { createCoreRuntime } from '../src/runtime/runtime.js';
import { collectGarbage } from './stats.js';

export interface ScaleResult {
  count: number;
  spawnMs: number;
  runMs: number;
  closeMs: number;
  totalMs: number;
  heapPerHandle: number;
  /** `shutdown()` after closing them all, when asked for. */
  shutdownMs: number | null;
}

export const RUN_CONCURRENCY = 16;

const heapUsed = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

export async function measureScale(count: number, timeShutdown: boolean): Promise<ScaleResult> {
  let ended = 0;
  let allEnded: () => void = () => {};
  const runsEnded = new Promise<void>((resolve) => (allEnded = resolve));
  const runtime = createCoreRuntime({
    run: async () => 'ok',
    maxConcurrentChildren: RUN_CONCURRENCY,
    onSubagentStop: () => {
      ended += 1;
      if (ended === count) allEnded();
    },
  });
  const heapBefore = heapUsed();
  const spawnStart = performance.now();
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(runtime.spawn().id);
  const spawnMs = performance.now() - spawnStart;
  const heapPerHandle = (heapUsed() - heapBefore) / count;
  const runStart = performance.now();
  for (const id of ids) runtime.send(id, 'go');
  await runsEnded;
  const runMs = performance.now() - runStart;
  const closeStart = performance.now();
  for (const id of ids) runtime.close(id);
  const closeMs = performance.now() - closeStart;
  if (runtime.list({ status: 'closed' }).length !== count) throw new Error(`P5: not all ${count} handles closed`);
  let shutdownMs: number | null = null;
  if (timeShutdown) {
    const shutdownStart = performance.now();
    await runtime.shutdown();
    shutdownMs = performance.now() - shutdownStart;
  }
  return { count, spawnMs, runMs, closeMs, totalMs: spawnMs + runMs + closeMs, heapPerHandle, shutdownMs };
}
