/**
 * P1: the runtime's overhead. One `delegate` batch of N tasks under
 * `maxConcurrentChildren` (its natural use: the supervisor is the pool)
 * against the raw client in a promise pool of the same size, zero latency.
 * Runs alternate (floor first on even rounds, ours first on odd) and the
 * medians are compared. CPU time is reported beside wall time: it is less
 * sensitive to other processes on the machine.
 */
import { captureRequestShape, timeDelegate, timeFloor } from './contenders.js';
import type { Timing, Workload } from './contenders.js';
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
  const rounds = options.rounds ?? 7;
  const shape = await captureRequestShape();
  // Warm-up: both paths get compiled before anything is timed.
  await timeFloor(workload, shape);
  await timeDelegate(workload);
  const floor: Timing[] = [];
  const ours: Timing[] = [];
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      floor.push(await timeFloor(workload, shape));
      ours.push(await timeDelegate(workload));
    } else {
      ours.push(await timeDelegate(workload));
      floor.push(await timeFloor(workload, shape));
    }
  }
  const wall = (timings: Timing[]) => median(timings.map((timing) => timing.wallMs));
  const cpu = (timings: Timing[]) => median(timings.map((timing) => timing.cpuMs));
  const ratio = wall(ours) / wall(floor);
  const pairRatios = ours.map((timing, index) => timing.wallMs / floor[index]!.wallMs);
  const perChildUs = (ms: number) => `${((ms * 1000) / workload.count).toFixed(0)} µs`;
  return [
    {
      id: 'P1',
      measure: `overhead: delegate ${workload.count} tasks (2 calls each, ${workload.concurrency} at a time) vs raw client pool, wall time`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(TARGET)}`,
      met: ratio <= TARGET,
      absolute:
        `ours ${formatMs(wall(ours))}, floor ${formatMs(wall(floor))} (medians of ${rounds}; ` +
        `paired ratios ${formatRatio(Math.min(...pairRatios))}–${formatRatio(Math.max(...pairRatios))})`,
    },
    {
      id: 'P1',
      measure: 'overhead: the same, CPU time of the process (no target; less noisy)',
      value: formatRatio(cpu(ours) / cpu(floor)),
      target: '—',
      met: null,
      absolute: `ours ${formatMs(cpu(ours))}, floor ${formatMs(cpu(floor))}: ${perChildUs(cpu(ours) - cpu(floor))} more CPU per child`,
    },
  ];
}
