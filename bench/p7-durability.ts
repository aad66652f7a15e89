/**
 * P7: what a store costs. P1's workload (one `delegate` batch, zero latency)
 * with `fileStore` in its default policy against the same with
 * `memoryStore`, paired in one run in alternating order; the journal bytes a
 * child adds; and the time a restore takes per handle at 1k and 10k handles.
 * Run it alone with `npm run bench -- P7`.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRuntime } from '../src/agent/create-runtime.js';
import { fileStore, memoryStore } from '../src/store/index.js';
import { timeDelegate } from './contenders.js';
import type { Timing, Workload } from './contenders.js';
import type { Row } from './report.js';
import { collectGarbage, formatBytes, formatMs, formatRatio, median } from './stats.js';

export interface DurabilityOptions {
  count?: number;
  concurrency?: number;
  rounds?: number;
  /** Handle counts a restore is timed at; the growth is the last's time per handle over the first's. */
  restoreSizes?: readonly number[];
  restoreRounds?: number;
}

const STORE_TARGET = 1.05;
const GROWTH_TARGET = 1.5;

const scratch = () => mkdtempSync(path.join(tmpdir(), 'subagents-bench-store-'));
const bytesIn = (directory: string, prefix: string) =>
  readdirSync(directory)
    .filter((name) => name.startsWith(prefix))
    .reduce((sum, name) => sum + statSync(path.join(directory, name)).size, 0);

type Kind = 'memory' | 'file';

async function timeWithStore(kind: Kind, workload: Workload): Promise<Timing> {
  const directory = kind === 'file' ? scratch() : null;
  try {
    return await timeDelegate(workload, directory ? fileStore(directory) : memoryStore());
  } finally {
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}

/** One batch on a file store that never compacts: the journal then holds every record written, and a compaction at the end the live ones. */
async function journalBytes(workload: Workload): Promise<{ journal: number; live: number }> {
  const directory = scratch();
  try {
    const store = fileStore(directory, { compactMinBytes: Number.MAX_SAFE_INTEGER });
    const closing = { close: store.close.bind(store) };
    // The runtime closes its store at shutdown: measured before that.
    let journal = 0;
    let live = 0;
    store.close = () => {
      journal = bytesIn(directory, 'journal-');
      store.compact();
      live = bytesIn(directory, 'snapshot-');
      closing.close();
    };
    await timeDelegate(workload, store);
    return { journal, live };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** A store holding `count` handles, each with one run done (a conversation of two messages). */
async function storeWithHandles(count: number): Promise<string> {
  const directory = scratch();
  const runtime = createRuntime({ run: async (input) => ({ output: `done: ${input}` }), store: fileStore(directory), maxConcurrentChildren: 64, logger: 'error' });
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(runtime.spawn({ goal: `task ${index}`, message: `input ${index}` }).id);
  await runtime.wait(ids, { timeoutMs: 600_000 });
  await runtime.shutdown({ keep: true });
  return directory;
}

/** Times creating a runtime on the store (open, read, restore every handle); a shutdown that keeps everything follows, untimed. */
async function timeRestore(directory: string, count: number): Promise<number> {
  collectGarbage();
  const start = performance.now();
  const runtime = createRuntime({ run: async (input) => ({ output: input }), store: fileStore(directory), maxConcurrentChildren: 64, logger: 'error' });
  const elapsed = performance.now() - start;
  const restored = runtime.list().length;
  await runtime.shutdown({ keep: true });
  if (restored !== count) throw new Error(`P7: restored ${restored} handles, expected ${count}`);
  return elapsed;
}

export async function benchDurability(options: DurabilityOptions = {}): Promise<Row[]> {
  // The fake server in this process, as this measurement has always run it.
  const workload: Workload = { count: options.count ?? 1000, concurrency: options.concurrency ?? 16, latencyMs: 0, server: 'inline' };
  const rounds = options.rounds ?? 4;
  const sizes = options.restoreSizes ?? [1000, 10_000];
  const restoreRounds = options.restoreRounds ?? 3;

  const kinds: readonly Kind[] = ['memory', 'file'];
  for (const kind of kinds) await timeWithStore(kind, workload);
  const timings = new Map<Kind, Timing[]>(kinds.map((kind) => [kind, []]));
  for (let round = 0; round < rounds; round += 1) {
    // Alternating order: neither always runs first.
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) timings.get(kind)!.push(await timeWithStore(kind, workload));
  }
  const wall = (kind: Kind) => median(timings.get(kind)!.map((timing) => timing.wallMs));
  const cpu = (kind: Kind) => median(timings.get(kind)!.map((timing) => timing.cpuMs));
  const pairRatios = timings.get('file')!.map((timing, index) => timing.wallMs / timings.get('memory')![index]!.wallMs);
  const ratio = wall('file') / wall('memory');
  const bytes = await journalBytes(workload);

  const perHandle: number[] = [];
  const restoreText: string[] = [];
  for (const size of sizes) {
    const directory = await storeWithHandles(size);
    try {
      const samples: number[] = [];
      for (let round = 0; round < restoreRounds; round += 1) samples.push(await timeRestore(directory, size));
      const total = median(samples);
      perHandle.push(total / size);
      restoreText.push(`${size} handles: ${formatMs(total)} (${formatMs(total / size)} each; store ${formatBytes(bytesIn(directory, ''))})`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  const growth = perHandle.at(-1)! / perHandle[0]!;

  return [
    {
      id: 'P7',
      measure: `store cost: P1's delegate of ${workload.count} tasks with fileStore (sync 'write') vs memoryStore, wall time`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(STORE_TARGET)}`,
      met: ratio <= STORE_TARGET,
      absolute:
        `file ${formatMs(wall('file'))}, memory ${formatMs(wall('memory'))} (medians of ${rounds} pairs; per-pair ratios ` +
        `${formatRatio(Math.min(...pairRatios))}–${formatRatio(Math.max(...pairRatios))}); CPU ${formatRatio(cpu('file') / cpu('memory'))}`,
    },
    {
      id: 'P7',
      measure: 'journal bytes per child (delegated task, 2 model calls and a tool call)',
      value: formatBytes(bytes.journal / workload.count),
      target: '—',
      met: null,
      absolute: `journal ${formatBytes(bytes.journal)} for ${workload.count} children; compacted (live) ${formatBytes(bytes.live / workload.count)} per child`,
    },
    {
      id: 'P7',
      measure: `restore time per handle, ${sizes.join(' vs ')} handles (growth of the time per handle)`,
      value: formatRatio(growth),
      target: `≤ ${formatRatio(GROWTH_TARGET)}`,
      met: growth <= GROWTH_TARGET,
      absolute: `${restoreText.join('; ')}; medians of ${restoreRounds}`,
    },
  ];
}
