/**
 * P2: scheduling. With every response delayed, wall time should approach the
 * ideal of full waves: ceil(N / concurrency) × 2 calls × latency. The floor
 * runs the same workload as a reference for what the event loop and the
 * timers cost by themselves. Then the same batch at 100 at a time against
 * the floor, paired per round. The fake server runs in a process of its own.
 */
import { captureRequestShape, timeDelegate, timeFloor } from './contenders.js';
import type { Timing, Workload } from './contenders.js';
import type { Row } from './report.js';
import { formatMs, formatPaired, formatRatio, median, pairedRatios } from './stats.js';

export interface SchedulingOptions {
  count?: number;
  concurrency?: number;
  latencyMs?: number;
  /** The wide run: this many at a time against the floor. */
  wideConcurrency?: number;
  wideRounds?: number;
}

const IDEAL_TARGET = 1.05;
const FLOOR_TARGET = 1.1;

export async function benchScheduling(options: SchedulingOptions = {}): Promise<Row[]> {
  const workload: Workload = {
    count: options.count ?? 1000,
    concurrency: options.concurrency ?? 16,
    latencyMs: options.latencyMs ?? 50,
  };
  const wide: Workload = { ...workload, concurrency: options.wideConcurrency ?? 100 };
  const wideRounds = options.wideRounds ?? 5;
  const ideal = Math.ceil(workload.count / workload.concurrency) * 2 * workload.latencyMs;
  const shape = await captureRequestShape();
  const ours = (await timeDelegate(workload)).wallMs;
  const floor = (await timeFloor(workload, shape)).wallMs;
  const ratio = ours / ideal;

  await timeDelegate(wide);
  await timeFloor(wide, shape);
  const oursWide: Timing[] = [];
  const floorWide: Timing[] = [];
  for (let round = 0; round < wideRounds; round += 1) {
    // Alternating order: neither always runs first.
    if (round % 2 === 0) {
      oursWide.push(await timeDelegate(wide));
      floorWide.push(await timeFloor(wide, shape));
    } else {
      floorWide.push(await timeFloor(wide, shape));
      oursWide.push(await timeDelegate(wide));
    }
  }
  const wall = pairedRatios(
    oursWide.map((timing) => timing.wallMs),
    floorWide.map((timing) => timing.wallMs),
  );
  const cpu = pairedRatios(
    oursWide.map((timing) => timing.cpuMs),
    floorWide.map((timing) => timing.cpuMs),
  );
  const wideIdeal = Math.ceil(wide.count / wide.concurrency) * 2 * wide.latencyMs;
  return [
    {
      id: 'P2',
      measure: `scheduling: delegate ${workload.count} tasks, ${workload.concurrency} at a time, ${workload.latencyMs} ms per response, wall time vs ideal`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(IDEAL_TARGET)}`,
      met: ratio <= IDEAL_TARGET,
      absolute: `ours ${formatMs(ours)}, ideal ${formatMs(ideal)}; raw client pool ${formatMs(floor)} (${formatRatio(floor / ideal)} of ideal)`,
    },
    {
      id: 'P2',
      measure: `scheduling, wide: the same at ${wide.concurrency} at a time, wall time vs the raw client pool`,
      value: formatPaired(wall),
      target: `≤ ${formatRatio(FLOOR_TARGET)}`,
      met: wall.median <= FLOOR_TARGET,
      absolute:
        `median of ${wideRounds} per-round ratios; ours ${formatMs(median(oursWide.map((timing) => timing.wallMs)))}, ` +
        `floor ${formatMs(median(floorWide.map((timing) => timing.wallMs)))}, ideal ${formatMs(wideIdeal)}; CPU ${formatPaired(cpu)}`,
    },
  ];
}
