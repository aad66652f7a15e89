/**
 * P1: the runtime's overhead. One `delegate` batch of N tasks under
 * `maxConcurrentChildren` (its natural use: the supervisor is the pool)
 * against the raw client in a promise pool of the same size, zero latency.
 * Runs alternate (floor first on even rounds, ours first on odd) and the
 * medians are compared.
 */
import { captureRequestShape, timeDelegate, timeFloor } from './contenders.js';
import type { Workload } from './contenders.js';
import type { Row } from './report.js';
import { formatMs, formatRatio, median } from './stats.js';

export interface OverheadOptions {
  count?: number;
  concurrency?: number;
  rounds?: number;
}

const TARGET = 1.25;

export async function benchOverhead(options: OverheadOptions = {}): Promise<Row[]> {
  const workload: Workload = { count: options.count ?? 1000, concurrency: options.concurrency ?? 16, latencyMs: 0 };
  const rounds = options.rounds ?? 5;
  const shape = await captureRequestShape();
  // Warm-up: both paths get compiled before anything is timed.
  await timeFloor(workload, shape);
  await timeDelegate(workload);
  const floor: number[] = [];
  const ours: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      floor.push(await timeFloor(workload, shape));
      ours.push(await timeDelegate(workload));
    } else {
      ours.push(await timeDelegate(workload));
      floor.push(await timeFloor(workload, shape));
    }
  }
  const ratio = median(ours) / median(floor);
  const pairRatios = ours.map((time, index) => time / floor[index]!);
  return [
    {
      id: 'P1',
      measure: `overhead: delegate ${workload.count} tasks (2 calls each, ${workload.concurrency} at a time) vs raw client pool`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(TARGET)}`,
      met: ratio <= TARGET,
      absolute:
        `ours ${formatMs(median(ours))}, floor ${formatMs(median(floor))} (medians of ${rounds}; ` +
        `paired ratios ${formatRatio(Math.min(...pairRatios))}–${formatRatio(Math.max(...pairRatios))})`,
    },
  ];
}
