/**
 * P1: the runtime's overhead. One `delegate` batch of N tasks under
 * `maxConcurrentChildren` (its natural use: the supervisor is the pool)
 * against the raw client in a promise pool of the same size, zero latency.
 * The model loop alone in the same pool runs too, to split the overhead into
 * the loop's and the runtime's. Each round runs the three in a rotated order;
 * medians are compared. CPU time is reported beside wall time: it is less
 * sensitive to other processes on the machine.
 */
import { captureRequestShape, timeDelegate, timeFloor, timeModelLoop } from './contenders.js';
import type { Timing, Workload } from './contenders.js';
import type { RequestShape } from './floor.js';
import type { Row } from './report.js';
import { formatMs, formatRatio, median } from './stats.js';

export interface OverheadOptions {
  count?: number;
  concurrency?: number;
  rounds?: number;
}

const TARGET = 1.25;

type Contender = 'floor' | 'loop' | 'ours';
const CONTENDERS: readonly Contender[] = ['floor', 'ours', 'loop'];

function timeContender(contender: Contender, workload: Workload, shape: RequestShape): Promise<Timing> {
  switch (contender) {
    case 'floor':
      return timeFloor(workload, shape);
    case 'loop':
      return timeModelLoop(workload, shape);
    case 'ours':
      return timeDelegate(workload);
  }
}

export async function benchOverhead(options: OverheadOptions = {}): Promise<Row[]> {
  const workload: Workload = { count: options.count ?? 1000, concurrency: options.concurrency ?? 16, latencyMs: 0 };
  const rounds = options.rounds ?? 7;
  const shape = await captureRequestShape();
  const timings = new Map<Contender, Timing[]>(CONTENDERS.map((contender) => [contender, []]));
  // Warm-up: every path gets compiled before anything is timed.
  for (const contender of CONTENDERS) await timeContender(contender, workload, shape);
  for (let round = 0; round < rounds; round += 1) {
    for (let offset = 0; offset < CONTENDERS.length; offset += 1) {
      const contender = CONTENDERS[(round + offset) % CONTENDERS.length]!;
      timings.get(contender)!.push(await timeContender(contender, workload, shape));
    }
  }
  const wall = (contender: Contender) => median(timings.get(contender)!.map((timing) => timing.wallMs));
  const cpu = (contender: Contender) => median(timings.get(contender)!.map((timing) => timing.cpuMs));
  const ratio = wall('ours') / wall('floor');
  const pairRatios = timings.get('ours')!.map((timing, index) => timing.wallMs / timings.get('floor')![index]!.wallMs);
  const perChildUs = (ms: number) => `${((ms * 1000) / workload.count).toFixed(0)} µs`;
  return [
    {
      id: 'P1',
      measure: `overhead: delegate ${workload.count} tasks (2 calls each, ${workload.concurrency} at a time) vs raw client pool, wall time`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(TARGET)}`,
      met: ratio <= TARGET,
      absolute:
        `ours ${formatMs(wall('ours'))}, floor ${formatMs(wall('floor'))} (medians of ${rounds}; ` +
        `per-round ratios ${formatRatio(Math.min(...pairRatios))}–${formatRatio(Math.max(...pairRatios))})`,
    },
    {
      id: 'P1',
      measure: 'overhead: the same, CPU time of the process (no target; less noisy)',
      value: formatRatio(cpu('ours') / cpu('floor')),
      target: '—',
      met: null,
      absolute: `ours ${formatMs(cpu('ours'))}, floor ${formatMs(cpu('floor'))}: ${perChildUs(cpu('ours') - cpu('floor'))} more CPU per child`,
    },
    {
      id: 'P1',
      measure: 'overhead split: the model loop alone in the same pool vs floor, and delegate vs the loop alone (CPU time)',
      value: `loop ${formatRatio(cpu('loop') / cpu('floor'))}, runtime ${formatRatio(cpu('ours') / cpu('loop'))}`,
      target: '—',
      met: null,
      absolute:
        `loop ${formatMs(cpu('loop'))} CPU (${formatMs(wall('loop'))} wall): the loop adds ${perChildUs(cpu('loop') - cpu('floor'))}, ` +
        `handles + supervisor + delegate add ${perChildUs(cpu('ours') - cpu('loop'))} per child`,
    },
  ];
}
