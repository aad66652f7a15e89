/**
 * A fresh process for one P5 size, so that no size inherits the heap or the
 * compiled code of another: `node --expose-gc p5-worker.js <count> [mode]`.
 * Warms up on 5 × 1,000 handles, times one pass, then measures the heap in a
 * pass of its own, and prints one ScaleResult as JSON. Modes: `shutdown` also
 * times `shutdown()`, the first of the process; `second-shutdown` shuts a
 * 1,000-handle runtime down first, then times the second shutdown.
 */
import type { Runtime } from '../src/agent/create-runtime.js';
import { heapPerIdleHandle, timeScale } from './p5-measure.js';
import type { ScaleResult } from './p5-measure.js';

const WARM_UP_ROUNDS = 5;
const WARM_UP_COUNT = 1_000;
const MODES = ['none', 'shutdown', 'second-shutdown'] as const;
export type WorkerMode = (typeof MODES)[number];

const isMode = (value: string): value is WorkerMode => (MODES as readonly string[]).includes(value);

const count = Number(process.argv[2]);
const mode = process.argv[3] ?? 'none';
if (!Number.isInteger(count) || count < 1) throw new Error(`p5-worker: expected a handle count >= 1, got \`${process.argv[2]}\``);
if (!isMode(mode)) throw new Error(`p5-worker: expected a mode of ${MODES.join(', ')}, got \`${mode}\``);
const runtimes: Runtime[] = [];
for (let round = 0; round < WARM_UP_ROUNDS; round += 1) await timeScale(WARM_UP_COUNT, mode === 'second-shutdown' && round === 0, runtimes);
const timing = await timeScale(count, mode !== 'none', runtimes);
const result: ScaleResult = { ...timing, heapPerHandle: await heapPerIdleHandle(count) };
if (runtimes.length !== WARM_UP_ROUNDS + 1) throw new Error('p5-worker: a runtime went missing');
process.stdout.write(`${JSON.stringify(result)}\n`);
