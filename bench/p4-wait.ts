/**
 * P4: wait latency. A core runtime whose run function is resolved by hand:
 * timestamp right before resolving the run, and again when the continuation
 * of the pending `wait()` runs. The floor, interleaved sample by sample, is a
 * plain promise: resolve it, time its `await` continuation. It shows how much
 * of the tail is the machine (GC, scheduling) rather than the runtime.
 */
import { performance } from 'node:perf_hooks';
import { createRuntime } from '../src/agent/create-runtime.js';
import { ManualRun } from './manual-run.js';
import type { Row } from './report.js';
import { formatMs, percentile } from './stats.js';

export interface WaitOptions {
  samples?: number;
  warmup?: number;
}

const TARGET_P99_MS = 0.1;

async function timePlainPromise(): Promise<number> {
  let resolve: () => void = () => {};
  const pending = new Promise<void>((settle) => (resolve = settle));
  const start = performance.now();
  resolve();
  await pending;
  return performance.now() - start;
}

export async function benchWait(options: WaitOptions = {}): Promise<Row[]> {
  const samples = options.samples ?? 2_000;
  const warmup = options.warmup ?? 200;
  const manual = new ManualRun();
  const runtime = createRuntime({ run: manual.run });
  const handle = runtime.spawn();
  const latencies: number[] = [];
  const floor: number[] = [];
  for (let sample = 0; sample < warmup + samples; sample += 1) {
    runtime.send(handle.id, `input ${sample}`);
    // The run function is called a little after the send (a microtask later): wait for it, then for the run's end.
    await manual.whenStarted();
    const waiting = runtime.wait(handle.id, { timeoutMs: 5_000 });
    const start = performance.now();
    manual.finish('done');
    const result = await waiting;
    const latency = performance.now() - start;
    if (result.timedOut || result.completed[0]?.status !== 'completed') throw new Error(`P4: wait ended with ${JSON.stringify(result)}`);
    const plainLatency = await timePlainPromise();
    if (sample >= warmup) {
      latencies.push(latency);
      floor.push(plainLatency);
    }
  }
  await runtime.shutdown();
  const p99 = percentile(latencies, 0.99);
  return [
    {
      id: 'P4',
      measure: `wait latency: a run's end → wait() resolves (${samples} samples, core runtime, run resolved by hand)`,
      value: `p50 ${formatMs(percentile(latencies, 0.5))}, p99 ${formatMs(p99)}`,
      target: `p99 ≤ ${formatMs(TARGET_P99_MS)}`,
      met: p99 <= TARGET_P99_MS,
      absolute:
        `floor (plain promise resolve → await) p50 ${formatMs(percentile(floor, 0.5))}, p99 ${formatMs(percentile(floor, 0.99))}; ` +
        `ours max ${formatMs(Math.max(...latencies))}; after ${warmup} warm-up samples`,
    },
  ];
}
