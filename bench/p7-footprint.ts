/**
 * P7, footprint: the peak heap of P1's workload against the floor's, each in
 * a fresh process (server in a third), alternated and paired per round; and
 * the cold import of the package (`src/index.ts`, compiled) against importing
 * its own dependencies xstate, zod and nanoid, each in a fresh process,
 * alternated and paired per round.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { captureRequestShape } from './contenders.js';
import { startServerProcess } from './remote-server.js';
import type { Row } from './report.js';
import { formatBytes, formatMs, formatPaired, formatRatio, median, pairedRatios } from './stats.js';

export interface FootprintOptions {
  heapRounds?: number;
  importRounds?: number;
}

const HEAP_TARGET = 1.3;
const IMPORT_TARGET = 1.2;
const HEAP_WORKER = fileURLToPath(new URL('./p7-heap-worker.js', import.meta.url));
// The package as it is published: the built `dist/` (`npm run bench` builds it first when stale).
const PACKAGE_ENTRY = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
// The package's root, where node resolves the bare names.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

async function peakHeapOf(kind: 'ours' | 'floor', shapeJson: string): Promise<{ peakHeap: number; maxRss: number }> {
  const server = await startServerProcess(0);
  try {
    const { stdout } = await run(process.execPath, [HEAP_WORKER, kind, server.url, shapeJson], { maxBuffer: 1024 * 1024 });
    return JSON.parse(stdout) as { peakHeap: number; maxRss: number };
  } finally {
    await server.close();
  }
}

/** Wall and CPU time of `await import(...)` of these specifiers, in a fresh process. */
async function importTime(specifiers: readonly string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const code =
    'const cpu = process.cpuUsage(); const start = performance.now();' +
    `await Promise.all(${JSON.stringify(specifiers)}.map((specifier) => import(specifier)));` +
    'const wallMs = performance.now() - start; const used = process.cpuUsage(cpu);' +
    'process.stdout.write(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000 }));';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT });
  return JSON.parse(stdout) as { wallMs: number; cpuMs: number };
}

const DEPENDENCIES = ['xstate', 'zod', 'nanoid'];

export async function benchFootprint(options: FootprintOptions = {}): Promise<Row[]> {
  const heapRounds = options.heapRounds ?? 3;
  const importRounds = options.importRounds ?? 15;
  const shapeJson = JSON.stringify(await captureRequestShape());
  const ours: Array<{ peakHeap: number; maxRss: number }> = [];
  const floor: Array<{ peakHeap: number; maxRss: number }> = [];
  for (let round = 0; round < heapRounds; round += 1) {
    const order = round % 2 === 0 ? (['ours', 'floor'] as const) : (['floor', 'ours'] as const);
    for (const kind of order) (kind === 'ours' ? ours : floor).push(await peakHeapOf(kind, shapeJson));
  }
  const heap = pairedRatios(
    ours.map((sample) => sample.peakHeap),
    floor.map((sample) => sample.peakHeap),
  );
  const rss = pairedRatios(
    ours.map((sample) => sample.maxRss),
    floor.map((sample) => sample.maxRss),
  );

  const kinds = { package: [PACKAGE_ENTRY], dependencies: DEPENDENCIES, withOpenai: [...DEPENDENCIES, 'openai'] } as const;
  type ImportKind = keyof typeof kinds;
  const times = new Map<ImportKind, Array<{ wallMs: number; cpuMs: number }>>([
    ['package', []],
    ['dependencies', []],
    ['withOpenai', []],
  ]);
  for (const kind of Object.keys(kinds) as ImportKind[]) await importTime(kinds[kind]); // warm the file cache
  for (let round = 0; round < importRounds; round += 1) {
    const order = Object.keys(kinds) as ImportKind[];
    if (round % 2 === 1) order.reverse();
    for (const kind of order) times.get(kind)!.push(await importTime(kinds[kind]));
  }
  const series = (kind: ImportKind, key: 'wallMs' | 'cpuMs') => times.get(kind)!.map((time) => time[key]);
  const importWall = pairedRatios(series('package', 'wallMs'), series('dependencies', 'wallMs'));
  const importCpu = pairedRatios(series('package', 'cpuMs'), series('dependencies', 'cpuMs'));
  const withOpenai = pairedRatios(series('package', 'wallMs'), series('withOpenai', 'wallMs'));
  const medianMs = (kind: ImportKind) => formatMs(median(series(kind, 'wallMs')));
  return [
    {
      id: 'P7',
      measure: "footprint: peak heap (heapUsed sampled every ms) of P1's workload, two batches, vs the floor's, each in a fresh process",
      value: formatPaired(heap),
      target: `≤ ${formatRatio(HEAP_TARGET)}`,
      met: heap.median <= HEAP_TARGET,
      absolute:
        `median of ${heapRounds} per-round ratios; ours ${formatBytes(median(ours.map((sample) => sample.peakHeap)))}, floor ${formatBytes(median(floor.map((sample) => sample.peakHeap)))}; ` +
        `max RSS ${formatPaired(rss)} (ours ${formatBytes(median(ours.map((sample) => sample.maxRss)))})`,
    },
    {
      id: 'P7',
      measure: `footprint: cold import of the package vs importing ${DEPENDENCIES.join(' + ')}, each in a fresh process, wall time`,
      value: formatPaired(importWall),
      target: `≤ ${formatRatio(IMPORT_TARGET)}`,
      met: importWall.median <= IMPORT_TARGET,
      absolute:
        `median of ${importRounds} per-round ratios; package ${medianMs('package')}, dependencies ${medianMs('dependencies')}; CPU ${formatPaired(importCpu)}; ` +
        `vs the dependencies + openai (the client most users load beside it; the package loads it on first use) ${formatRatio(withOpenai.median)} (${medianMs('withOpenai')})`,
    },
  ];
}
