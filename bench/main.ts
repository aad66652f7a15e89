/**
 * `npm run bench`: runs the benchmarks in one process, side by side, and
 * prints one Markdown table. Pass ids to run some only: `… main.js P1 P4`.
 */
import { benchOverhead } from './p1-overhead.js';
import { benchScheduling } from './p2-scheduling.js';
import { benchInterrupt } from './p3-interrupt.js';
import { benchWait } from './p4-wait.js';
import { benchScale } from './p5-scale.js';
import { benchEvents } from './p6-events.js';
import { formatTable } from './report.js';
import type { Row } from './report.js';
import { hasGc } from './stats.js';

const BENCHMARKS: ReadonlyArray<{ id: string; run: () => Promise<Row[]> }> = [
  { id: 'P1', run: () => benchOverhead() },
  { id: 'P2', run: () => benchScheduling() },
  { id: 'P3', run: () => benchInterrupt() },
  { id: 'P4', run: () => benchWait() },
  { id: 'P5', run: () => benchScale() },
  { id: 'P6', run: () => benchEvents() },
];

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2).map((id) => id.toUpperCase()));
  if (!hasGc()) console.warn('bench: run node with --expose-gc; heap numbers are meaningless without it');
  const rows: Row[] = [];
  const started = performance.now();
  for (const benchmark of BENCHMARKS) {
    if (wanted.size > 0 && !wanted.has(benchmark.id)) continue;
    const benchmarkStart = performance.now();
    rows.push(...(await benchmark.run()));
    console.error(`bench: ${benchmark.id} took ${((performance.now() - benchmarkStart) / 1000).toFixed(1)} s`);
  }
  console.log(formatTable(rows));
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(1)} s, node ${process.version}`);
}

await main();
