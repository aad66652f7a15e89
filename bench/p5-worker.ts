/**
 * A fresh process for one P5 size, so that no size inherits the heap or the
 * compiled code of another: `node --expose-gc p5-worker.js <count> [shutdown]`.
 * Warms up on 1,000 handles (never shut down: a first `shutdown()` changes how
 * later ones run, see RESULTS.md), then prints one ScaleResult as JSON.
 */
import { measureScale } from './p5-measure.js';

const WARM_UP_COUNT = 1_000;

const count = Number(process.argv[2]);
if (!Number.isInteger(count) || count < 1) throw new Error(`p5-worker: expected a handle count >= 1, got \`${process.argv[2]}\``);
await measureScale(WARM_UP_COUNT, false);
const result = await measureScale(count, process.argv[3] === 'shutdown');
process.stdout.write(`${JSON.stringify(result)}\n`);
