/**
 * P5: scale, at 1k, 10k and 50k handles, each size in its own fresh process
 * (see p5-measure.ts for what one measurement does). 1k is repeated and its
 * median taken: it is short enough for noise to matter; 50k too, as its one
 * process is otherwise the one sample the growth ratios rest on. Half of the closed
 * handles are then forgotten one by one and the runtime is shut down with the
 * other half, both timed at every size, and shutdown once more at 10k after
 * an earlier shutdown in the same process.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RUN_CONCURRENCY } from './p5-measure.js';
import type { ScaleResult } from './p5-measure.js';
import type { WorkerMode } from './p5-worker.js';
import type { Row } from './report.js';
import { formatBytes, formatMs, formatRatio, median } from './stats.js';

export interface ScaleOptions {
  counts?: readonly number[];
  /** Runs of the smallest count; its median is the baseline. */
  smallestRepeats?: number;
  /** Runs of the largest count, for the same reason: one process is one sample of a noisy machine. */
  largestRepeats?: number;
  /** Counts whose (first) `shutdown()` is timed too. */
  shutdownCounts?: readonly number[];
  /** Count whose shutdown is timed after an earlier one in the same process; `null` to skip. */
  secondShutdownCount?: number | null;
}

const TOTAL_SHOWN = 10_000;
const HEAP_TARGET_BYTES = 4 * 1024;
const GROWTH_TARGET = 1.5;
const WORKER = fileURLToPath(new URL('./p5-worker.js', import.meta.url));

async function inFreshProcess(count: number, mode: WorkerMode): Promise<ScaleResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', WORKER, String(count), mode], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout) as ScaleResult;
}

const perHandleUs = (result: ScaleResult) => (result.totalMs * 1000) / result.count;
const label = (count: number) => (count >= 1000 ? `${count / 1000}k` : String(count));
const phases = (result: ScaleResult) =>
  `${label(result.count)}: spawn ${formatMs(result.spawnMs)} + send/run ${formatMs(result.runMs)} + close ${formatMs(result.closeMs)}`;
const shutdownOf = (result: ScaleResult) => `${label(result.count)}: ${formatMs(result.shutdownMs ?? Number.NaN)}`;
const shutdownPerHandle = (result: ScaleResult) => `${(((result.shutdownMs ?? Number.NaN) * 1000) / (result.count / 2)).toFixed(0)} µs per handle`;

/** The run of median total time. */
function medianRun(results: readonly ScaleResult[]): ScaleResult {
  const middle = median(results.map((result) => result.totalMs));
  return results.find((result) => result.totalMs === middle)!;
}

export async function benchScale(options: ScaleOptions = {}): Promise<Row[]> {
  const counts = options.counts ?? [1_000, 10_000, 50_000];
  const smallestRepeats = options.smallestRepeats ?? 5;
  const largestRepeats = options.largestRepeats ?? 3;
  const shutdownCounts = new Set(options.shutdownCounts ?? counts);
  const secondShutdownCount = options.secondShutdownCount === undefined ? 10_000 : options.secondShutdownCount;
  const results: ScaleResult[] = [];
  const runsOf: ScaleResult[][] = [];
  for (const [position, count] of counts.entries()) {
    const repeats = position === 0 ? smallestRepeats : position === counts.length - 1 ? largestRepeats : 1;
    const mode: WorkerMode = shutdownCounts.has(count) ? 'shutdown' : 'none';
    const runs: ScaleResult[] = [];
    for (let repeat = 0; repeat < repeats; repeat += 1) runs.push(await inFreshProcess(count, mode));
    results.push(medianRun(runs));
    runsOf.push(runs);
  }
  const smallest = results[0]!;
  const largest = results.at(-1)!;
  const atTarget = results.find((result) => result.count === TOTAL_SHOWN);
  const heaviest = Math.max(...results.map((result) => result.heapPerHandle));
  const growth = perHandleUs(largest) / perHandleUs(smallest);
  // forget() takes half of the handles and shutdown() the other half: each per handle it handled.
  const PHASES = ['spawn', 'send', 'close', 'forget', 'shutdown'] as const;
  type Phase = (typeof PHASES)[number];
  const msOf = (result: ScaleResult, phase: Phase, cpu: boolean): number => {
    switch (phase) {
      case 'spawn':
        return cpu ? result.spawnCpuMs : result.spawnMs;
      case 'send':
        return cpu ? result.sendCpuMs : result.runMs;
      case 'close':
        return cpu ? result.closeCpuMs : result.closeMs;
      case 'forget':
        return cpu ? result.forgetCpuMs : result.forgetMs;
      case 'shutdown':
        return (cpu ? result.shutdownCpuMs : result.shutdownMs) ?? Number.NaN;
    }
  };
  const handled = (result: ScaleResult, phase: Phase) => (phase === 'forget' || phase === 'shutdown' ? result.count / 2 : result.count);
  const perHandle = (result: ScaleResult, phase: Phase, cpu: boolean) => (msOf(result, phase, cpu) * 1000) / handled(result, phase);
  // Each phase's median over the processes of a size: the median run by total time need not be the median of a phase.
  const phaseMedian = (runs: readonly ScaleResult[], phase: Phase, cpu: boolean) => median(runs.map((run) => perHandle(run, phase, cpu)));
  const growthOf = (phase: Phase, cpu: boolean) => {
    const small = phaseMedian(runsOf[0]!, phase, cpu);
    const large = phaseMedian(runsOf.at(-1)!, phase, cpu);
    return { small, large, growth: large / small };
  };
  const rows: Row[] = [
    ...PHASES.map((phase): Row => {
      const cpu = growthOf(phase, true);
      const wall = growthOf(phase, false);
      return {
        id: 'P5',
        measure: `scale: ${phase} time per handle at ${label(largest.count)} ÷ at ${label(smallest.count)}, CPU time of the process`,
        value: formatRatio(cpu.growth),
        target: `≤ ${formatRatio(GROWTH_TARGET)}`,
        met: Number.isFinite(cpu.growth) && cpu.growth <= GROWTH_TARGET,
        absolute:
          `CPU ${cpu.small.toFixed(1)} → ${cpu.large.toFixed(1)} µs per handle; wall ${formatRatio(wall.growth)} (${wall.small.toFixed(1)} → ${wall.large.toFixed(1)} µs); ` +
          `medians of ${smallestRepeats} and ${largestRepeats} processes`,
      };
    }),
    {
      id: 'P5',
      measure: 'scale: heap per idle handle (gc, heapUsed before/after spawning, handles held)',
      value: formatBytes(heaviest),
      target: `≤ ${formatBytes(HEAP_TARGET_BYTES)}`,
      met: heaviest <= HEAP_TARGET_BYTES,
      absolute: results.map((result) => `${label(result.count)}: ${formatBytes(result.heapPerHandle)}`).join(', '),
    },
    {
      id: 'P5',
      measure: `scale: time per handle (spawn + send/run (${RUN_CONCURRENCY} at a time) + close) at ${label(largest.count)} ÷ at ${label(smallest.count)}, wall time (no target)`,
      value: formatRatio(growth),
      target: '—',
      met: null,
      absolute:
        results.map((result) => `${label(result.count)}: ${perHandleUs(result).toFixed(0)} µs`).join(', ') +
        `; ${atTarget ? `${label(atTarget.count)} in ${formatMs(atTarget.totalMs)} (` : '('}${results.map(phases).join('; ')})`,
    },
  ];
  const firstShutdowns = results.filter((result) => result.shutdownMs !== null);
  const second = secondShutdownCount === null ? null : await inFreshProcess(secondShutdownCount, 'second-shutdown');
  if (firstShutdowns.length > 0 || second) {
    rows.push({
      id: 'P5',
      measure: 'scale: shutdown() after closing all, first in its process (no target; shows growth)',
      value: [...firstShutdowns.map(shutdownOf), ...(second ? [`${shutdownOf(second)} when not the first`] : [])].join(', '),
      target: '—',
      met: null,
      absolute: [...firstShutdowns, ...(second ? [second] : [])].map((result) => `${label(result.count)}: ${shutdownPerHandle(result)}`).join(', '),
    });
  }
  return rows;
}
