/**
 * P1: the runtime's overhead. One `delegate` batch of N tasks under
 * `maxConcurrentChildren` (its natural use: the supervisor is the pool)
 * against the raw client in a promise pool of the same size, zero latency.
 * The model loop alone in the same pool runs too, to split the overhead into
 * the loop's and the runtime's. Each round runs the three in a rotated order;
 * the ratio to the floor is taken per round (CPU time of this process and
 * wall time), and its median reported. The fake server runs in a process of
 * its own, so the CPU time is the client's alone.
 */
import { captureRequestShape, timeDelegate, timeFloor, timeModelLoop } from './contenders.js';
import type { Timing, Workload } from './contenders.js';
import type { RequestShape } from './floor.js';
import type { Row } from './report.js';
import { formatMs, formatPaired, formatRatio, median, pairedRatios } from './stats.js';

export interface OverheadOptions {
  count?: number;
  concurrency?: number;
  rounds?: number;
}

const TARGET = 1.1;

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
  const series = (contender: Contender, key: keyof Timing) => timings.get(contender)!.map((timing) => timing[key]);
  const wall = (contender: Contender) => median(series(contender, 'wallMs'));
  const cpu = (contender: Contender) => median(series(contender, 'cpuMs'));
  // Each round times every contender once: the ratio is taken per round, then its median.
  const cpuPaired = pairedRatios(series('ours', 'cpuMs'), series('floor', 'cpuMs'));
  const wallPaired = pairedRatios(series('ours', 'wallMs'), series('floor', 'wallMs'));
  const perChildUs = (ms: number) => `${((ms * 1000) / workload.count).toFixed(0)} µs`;
  const what = `delegate ${workload.count} tasks (2 calls + 1 tool each, ${workload.concurrency} at a time, no latency) vs the raw client in a promise pool; fake server in its own process`;
  return [
    {
      id: 'P1',
      measure: `overhead, client CPU time: ${what}`,
      value: formatPaired(cpuPaired),
      target: `≤ ${formatRatio(TARGET)}`,
      met: cpuPaired.median <= TARGET,
      absolute:
        `median of ${rounds} per-round ratios (range in brackets); ours ${formatMs(cpu('ours'))}, floor ${formatMs(cpu('floor'))} CPU (medians): ` +
        `${perChildUs(cpu('ours') - cpu('floor'))} more CPU per child`,
    },
    {
      id: 'P1',
      measure: 'overhead, wall time: the same runs',
      value: formatPaired(wallPaired),
      target: `≤ ${formatRatio(TARGET)}`,
      met: wallPaired.median <= TARGET,
      absolute: `median of ${rounds} per-round ratios; ours ${formatMs(wall('ours'))}, floor ${formatMs(wall('floor'))} (medians)`,
    },
    {
      id: 'P1',
      measure: 'overhead split: the model loop alone in the same pool vs floor, and delegate vs the loop alone (CPU time, per-round ratios)',
      value: `loop ${formatRatio(pairedRatios(series('loop', 'cpuMs'), series('floor', 'cpuMs')).median)}, runtime ${formatRatio(pairedRatios(series('ours', 'cpuMs'), series('loop', 'cpuMs')).median)}`,
      target: '—',
      met: null,
      absolute:
        `loop ${formatMs(cpu('loop'))} CPU (${formatMs(wall('loop'))} wall): the loop adds ${perChildUs(cpu('loop') - cpu('floor'))}, ` +
        `handles + supervisor + delegate add ${perChildUs(cpu('ours') - cpu('loop'))} per child`,
    },
  ];
}
