/**
 * One P5 measurement: N handles under one supervisor (core runtime, a run
 * function that resolves at once, 16 runs at a time): spawn them all, send
 * one input to each, wait for every run to end, close them all, forget half
 * and shut down. Spawn, forget and shutdown each start on a collected heap (a
 * forced GC outside the timing), so that none pays for collecting the garbage
 * of the phase before it: at 1k that garbage is most of a phase's GC, at 50k
 * a small part. Heap per idle handle is measured in a pass of its own.
 */
import { performance } from 'node:perf_hooks';
import { createRuntime } from '../src/agent/create-runtime.js';
import type { Runtime } from '../src/agent/create-runtime.js';
import { collectGarbage } from './stats.js';

export interface ScaleTiming {
  count: number;
  spawnMs: number;
  runMs: number;
  closeMs: number;
  totalMs: number;
  /** `forget()` of the first half of the closed handles, one by one. */
  forgetMs: number;
  /** `shutdown()` after that (the other half still there), when asked for. */
  shutdownMs: number | null;
  /** CPU time of the process (every thread, the GC's included) in spawn, forget and shutdown: what other tenants of the machine do not move. */
  spawnCpuMs: number;
  /** One send each, until every run ended. */
  sendCpuMs: number;
  closeCpuMs: number;
  forgetCpuMs: number;
  shutdownCpuMs: number | null;
}

/** CPU time of the process since `start`, in ms. */
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

export interface ScaleResult extends ScaleTiming {
  heapPerHandle: number;
}

export const RUN_CONCURRENCY = 16;

function scaleRuntime(onRunEnd: () => void): Runtime {
  return createRuntime({ run: async () => 'ok', maxConcurrentChildren: RUN_CONCURRENCY, onSubagentStop: onRunEnd });
}

/**
 * Times spawn, one send each (until every run ended) and close of `count`
 * handles. The runtime is pushed to `keep`: holding every runtime until the
 * heap is measured stops one from being freed between the two readings (the
 * compiled code can keep a finished runtime reachable for a while).
 */
export async function timeScale(count: number, timeShutdown: boolean, keep: Runtime[]): Promise<ScaleTiming> {
  let ended = 0;
  let allEnded: () => void = () => {};
  const runsEnded = new Promise<void>((resolve) => (allEnded = resolve));
  const runtime = scaleRuntime(() => {
    ended += 1;
    if (ended === count) allEnded();
  });
  keep.push(runtime);
  // Each timed phase starts on a collected heap, so no phase pays for the garbage of what ran before it.
  collectGarbage();
  const spawnCpu = process.cpuUsage();
  const spawnStart = performance.now();
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(runtime.spawn().id);
  const runStart = performance.now();
  const spawnCpuMs = cpuMsSince(spawnCpu);
  const sendCpu = process.cpuUsage();
  for (const id of ids) runtime.send(id, 'go');
  await runsEnded;
  const sendCpuMs = cpuMsSince(sendCpu);
  const closeCpu = process.cpuUsage();
  const closeStart = performance.now();
  for (const id of ids) runtime.close(id);
  const closeEnd = performance.now();
  const closeCpuMs = cpuMsSince(closeCpu);
  if (runtime.list({ status: 'closed' }).length !== count) throw new Error(`P5: not all ${count} handles closed`);
  collectGarbage();
  const forgetCpu = process.cpuUsage();
  const forgetStart = performance.now();
  for (const id of ids.slice(0, count / 2)) runtime.forget(id);
  const forgetEnd = performance.now();
  const forgetCpuMs = cpuMsSince(forgetCpu);
  if (runtime.list().length !== count - count / 2) throw new Error(`P5: forget left ${runtime.list().length} of ${count} handles`);
  let shutdownMs: number | null = null;
  let shutdownCpuMs: number | null = null;
  if (timeShutdown) {
    collectGarbage();
    const shutdownCpu = process.cpuUsage();
    const shutdownStart = performance.now();
    await runtime.shutdown();
    shutdownMs = performance.now() - shutdownStart;
    shutdownCpuMs = cpuMsSince(shutdownCpu);
  }
  return {
    count,
    spawnMs: runStart - spawnStart,
    runMs: closeStart - runStart,
    closeMs: closeEnd - closeStart,
    totalMs: closeEnd - spawnStart,
    forgetMs: forgetEnd - forgetStart,
    shutdownMs,
    spawnCpuMs,
    sendCpuMs,
    closeCpuMs,
    forgetCpuMs,
    shutdownCpuMs,
  };
}

/** Full GCs until the heap stops shrinking (one can leave garbage a later one frees), after pending work settled. */
async function settledHeapUsed(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  let used = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 5; pass += 1) {
    collectGarbage();
    const now = process.memoryUsage().heapUsed;
    if (now >= used * 0.999) return now;
    used = now;
  }
  return used;
}

/** Heap per idle handle: settled heapUsed, spawn `count` handles and hold them, settled heapUsed. */
export async function heapPerIdleHandle(count: number): Promise<number> {
  const runtime = scaleRuntime(() => {});
  const before = await settledHeapUsed();
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(runtime.spawn().id);
  const after = await settledHeapUsed();
  // Keeps the runtime and the handles alive until after the second reading.
  if (runtime.list().length !== ids.length) throw new Error('P5: handles went missing');
  return (after - before) / count;
}
