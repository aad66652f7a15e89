/**
 * One P7 peak-heap sample in a fresh process: `node p7-heap-worker.js
 * <ours|floor> <server url> <request shape JSON>`. Runs P1's workload twice
 * (the first as a warm-up, as P1 does), samples heapUsed every millisecond
 * and prints `{ peakHeap, maxRss }` as JSON. The floor process loads the
 * `openai` client only, never the library.
 */
import type { RequestShape } from './floor.js';
import { checkAnswers, clientFor, goalOf, MODEL } from './workload.js';

const KINDS = ['ours', 'floor'] as const;
type Kind = (typeof KINDS)[number];
const isKind = (value: string | undefined): value is Kind => (KINDS as readonly (string | undefined)[]).includes(value);

const [kind, url, shapeJson] = process.argv.slice(2);
if (!isKind(kind) || !url || !shapeJson) throw new Error(`p7-heap-worker: expected <ours|floor> <url> <shape JSON>, got ${JSON.stringify(process.argv.slice(2))}`);
const count = 1000;
const concurrency = 16;

let peakHeap = process.memoryUsage().heapUsed;
const sample = () => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
};
const sampler = setInterval(sample, 1);

async function batch(): Promise<string[]> {
  const client = clientFor({ url: url! });
  if (kind === 'floor') {
    const { runFloor } = await import('./floor.js');
    return runFloor(client, JSON.parse(shapeJson!) as RequestShape, count, concurrency);
  }
  const [{ createRuntime }, { lookupTool }] = await Promise.all([import('../src/agent/create-runtime.js'), import('./fixtures.js')]);
  const runtime = createRuntime({ client, model: MODEL, tools: [lookupTool], maxConcurrentChildren: concurrency });
  const tasks = Array.from({ length: count }, (_, index) => ({ goal: goalOf(index) }));
  const outcome = await runtime.delegate({ tasks }).result;
  await runtime.shutdown();
  return outcome.results.map((result) => result.summary);
}

for (let round = 0; round < 2; round += 1) checkAnswers(kind, await batch());
sample();
clearInterval(sampler);
process.stdout.write(`${JSON.stringify({ peakHeap, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
