/**
 * `npm run bench`: runs the benchmarks in one process, side by side, and
 * prints one Markdown table with each goal's ratio, met or missed, and the
 * load average when it was measured (P5 runs each size in a child process,
 * P1/P2 their fake server in one). Pass ids to run some only:
 * `npm run bench -- P1 P4`. `--write` also puts the table in
 * bench/RESULTS.md.
 */
import { performance } from 'node:perf_hooks';
import { describeMachine, loadAverage } from './machine.js';
import { benchOverhead } from './p1-overhead.js';
import { benchScheduling } from './p2-scheduling.js';
import { benchInterrupt } from './p3-interrupt.js';
import { benchWait } from './p4-wait.js';
import { benchWaitMany } from './p4-wait-many.js';
import { benchScale } from './p5-scale.js';
import { benchEvents } from './p6-events.js';
import { benchDurability } from './p7-durability.js';
import { benchWorkers } from './w-workers.js';
import { benchFootprint } from './p7-footprint.js';
import { formatTable, summarize, withLoad } from './report.js';
import type { Row } from './report.js';
import { RESULTS_FILE, writeResults } from './results-file.js';
import { hasGc } from './stats.js';

const BENCHMARKS: ReadonlyArray<{ id: string; run: () => Promise<Row[]>; optIn?: boolean }> = [
  { id: 'P1', run: () => benchOverhead() },
  { id: 'P2', run: () => benchScheduling() },
  { id: 'P3', run: () => benchInterrupt() },
  { id: 'P4', run: async () => [...(await benchWait()), ...(await benchWaitMany())] },
  { id: 'P5', run: () => benchScale() },
  { id: 'P6', run: () => benchEvents() },
  { id: 'P7', run: async () => [...(await benchDurability()), ...(await benchFootprint())] },
  // Needs redis-server (it starts its own); not in a run of every benchmark: `npm run bench -- W`.
  { id: 'W', run: () => benchWorkers(), optIn: true },
];

const WRITE_FLAG = '--write';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = args.includes(WRITE_FLAG);
  const wanted = new Set(args.filter((arg) => arg !== WRITE_FLAG).map((id) => id.toUpperCase()));
  const unknown = [...wanted].filter((id) => !BENCHMARKS.some((benchmark) => benchmark.id === id));
  if (unknown.length > 0) throw new Error(`bench: unknown benchmark ${unknown.join(', ')}; expected some of ${BENCHMARKS.map((b) => b.id).join(', ')} and ${WRITE_FLAG}`);
  if (!hasGc()) console.warn('bench: run node with --expose-gc, or heap numbers and GC between runs are missing');
  const loadBefore = loadAverage();
  const rows: Row[] = [];
  const started = performance.now();
  for (const benchmark of BENCHMARKS) {
    if (wanted.size > 0 ? !wanted.has(benchmark.id) : benchmark.optIn === true) continue;
    const benchmarkStart = performance.now();
    rows.push(...withLoad(await benchmark.run()));
    console.error(`bench: ${benchmark.id} took ${seconds(performance.now() - benchmarkStart)}`);
  }
  const report = [
    formatTable(rows),
    '',
    summarize(rows),
    '',
    describeMachine(),
    `load average (1, 5, 15 min) ${loadBefore} before, ${loadAverage()} after; total ${seconds(performance.now() - started)}; ${new Date().toISOString()}`,
    `ran: ${wanted.size > 0 ? [...wanted].join(' ') : 'all'}`,
  ].join('\n');
  console.log(report);
  if (write) {
    writeResults(report);
    console.error(`bench: wrote ${RESULTS_FILE}`);
  }
}

await main();
