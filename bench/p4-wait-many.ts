/**
 * P4, second part: one `wait()` on every handle of a batch. The baseline is
 * the same batch with its end noticed by counting `onSubagentStop` calls;
 * the two alternate, and the ratio of the medians is reported.
 */
import { performance } from 'node:perf_hooks';
import { createRuntime } from '../src/agent/create-runtime.js';
import type { Row } from './report.js';
import { formatMs, formatRatio, median } from './stats.js';

export interface WaitManyOptions {
  count?: number;
  rounds?: number;
}

async function timeBatch(count: number, withWait: boolean): Promise<number> {
  let ended = 0;
  let allEnded: () => void = () => {};
  const runsEnded = new Promise<void>((resolve) => (allEnded = resolve));
  const runtime = createRuntime({
    run: async () => 'ok',
    maxConcurrentChildren: 16,
    onSubagentStop: () => {
      ended += 1;
      if (ended === count) allEnded();
    },
  });
  const ids = Array.from({ length: count }, () => runtime.spawn().id);
  const start = performance.now();
  for (const id of ids) runtime.send(id, 'go');
  if (withWait) {
    const result = await runtime.wait(ids, { timeoutMs: 600_000 });
    if (result.completed.length !== count) throw new Error(`P4: wait ended with ${result.pending.length} handles pending`);
  } else {
    await runsEnded;
  }
  const elapsed = performance.now() - start;
  await runtime.shutdown();
  return elapsed;
}

export async function benchWaitMany(options: WaitManyOptions = {}): Promise<Row[]> {
  const count = options.count ?? 2_000;
  const rounds = options.rounds ?? 3;
  await timeBatch(count, false); // warm-up
  const counted: number[] = [];
  const waited: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    counted.push(await timeBatch(count, false));
    waited.push(await timeBatch(count, true));
  }
  const ratio = median(waited) / median(counted);
  return [
    {
      id: 'P4',
      measure: `wait on a batch: one wait() on all ${count.toLocaleString('en-US')} handles vs counting run ends (no target)`,
      value: formatRatio(ratio),
      target: '—',
      met: null,
      absolute: `wait ${formatMs(median(waited))}, counting ${formatMs(median(counted))} (medians of ${rounds})`,
    },
  ];
}
