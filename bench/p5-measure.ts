/**
 * One P5 measurement: N handles under one supervisor (core runtime, a run
 * function that resolves at once, 16 runs at a time): spawn them all, send
 * one input to each, wait for every run to end, close them all. Heap per idle
 * handle is measured in a pass of its own: a forced GC in the middle of the
 * timed pass would slow what follows it (see RESULTS.md).
 */
import { performance } from 'node:perf_hooks';
import { createCoreRuntime } from '../src/runtime/runtime.js';
import type { CoreRuntime } from '../src/runtime/runtime.js';
import { collectGarbage } from './stats.js';

export interface ScaleTiming {
  count: number;
  spawnMs: number;
  runMs: number;
  closeMs: number;
  totalMs: number;
  /** `shutdown()` after closing them all, when asked for. */
  shutdownMs: number | null;
}

export interface ScaleResult extends ScaleTiming {
  heapPerHandle: number;
}

export const RUN_CONCURRENCY = 16;

function scaleRuntime(onRunEnd: () => void): CoreRuntime {
  return createCoreRuntime({ run: async () => 'ok', maxConcurrentChildren: RUN_CONCURRENCY, onSubagentStop: onRunEnd });
}

/** Times spawn, one send each (until every run ended) and close of `count` handles. */
export async function timeScale(count: number, timeShutdown: boolean): Promise<ScaleTiming> {
  let ended = 0;
  let allEnded: () => void = () => {};
  const runsEnded = new Promise<void>((resolve) => (allEnded = resolve));
  const runtime = scaleRuntime(() => {
    ended += 1;
    if (ended === count) allEnded();
  });
  const spawnStart = performance.now();
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(runtime.spawn().id);
  const runStart = performance.now();
  for (const id of ids) runtime.send(id, 'go');
  await runsEnded;
  const closeStart = performance.now();
  for (const id of ids) runtime.close(id);
  const closeEnd = performance.now();
  if (runtime.list({ status: 'closed' }).length !== count) throw new Error(`P5: not all ${count} handles closed`);
  let shutdownMs: number | null = null;
  if (timeShutdown) {
    await runtime.shutdown();
    shutdownMs = performance.now() - closeEnd;
  }
  return {
    count,
    spawnMs: runStart - spawnStart,
    runMs: closeStart - runStart,
    closeMs: closeEnd - closeStart,
    totalMs: closeEnd - spawnStart,
    shutdownMs,
  };
}

/** Heap per idle handle: GC, heapUsed, spawn `count` handles and hold them, GC, heapUsed. */
export function heapPerIdleHandle(count: number): number {
  const runtime = scaleRuntime(() => {});
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(runtime.spawn().id);
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  // Keeps the runtime and the handles alive until after the second reading.
  if (runtime.list().length !== ids.length) throw new Error('P5: handles went missing');
  return (after - before) / count;
}
