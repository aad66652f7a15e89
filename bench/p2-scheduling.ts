/**
 * P2: scheduling. With every response delayed, wall time should approach the
 * ideal of full waves: ceil(N / concurrency) × 2 calls × latency. The floor
 * runs the same workload as a reference for what the event loop and the
 * timers cost by themselves.
 */
import { captureRequestShape, timeDelegate, timeFloor } from './contenders.js';
import type { Workload } from './contenders.js';
import type { Row } from './report.js';
import { formatMs, formatRatio } from './stats.js';

export interface SchedulingOptions {
  count?: number;
  concurrency?: number;
  latencyMs?: number;
}

const TARGET = 1.05;

export async function benchScheduling(options: SchedulingOptions = {}): Promise<Row[]> {
  const workload: Workload = {
    count: options.count ?? 1000,
    concurrency: options.concurrency ?? 16,
    latencyMs: options.latencyMs ?? 50,
  };
  const ideal = Math.ceil(workload.count / workload.concurrency) * 2 * workload.latencyMs;
  const shape = await captureRequestShape();
  const ours = (await timeDelegate(workload)).wallMs;
  const floor = (await timeFloor(workload, shape)).wallMs;
  const ratio = ours / ideal;
  return [
    {
      id: 'P2',
      measure: `scheduling: delegate ${workload.count} tasks, ${workload.concurrency} at a time, ${workload.latencyMs} ms per response, vs ideal`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(TARGET)}`,
      met: ratio <= TARGET,
      absolute: `ours ${formatMs(ours)}, ideal ${formatMs(ideal)}; raw client pool ${formatMs(floor)} (${formatRatio(floor / ideal)} of ideal)`,
    },
  ];
}
