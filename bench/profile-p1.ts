/**
 * P1's workload for a CPU profile: `node --cpu-prof --cpu-prof-dir=<dir>
 * dist-bench/bench/profile-p1.js [batches] [ours|loop|floor]`, then
 * `node dist-bench/bench/profile-summary.js <dir>/<file>.cpuprofile`. One
 * warm-up batch, then the profiled ones; the fake server runs in its own
 * process, so the profile is the client's.
 */
import { captureRequestShape, timeDelegate, timeFloor, timeModelLoop } from './contenders.js';
import type { Workload } from './contenders.js';

const batches = Number(process.argv[2] ?? 3);
const kind = process.argv[3] ?? 'ours';
if (!Number.isInteger(batches) || batches < 1) throw new Error(`profile-p1: expected a batch count >= 1, got \`${process.argv[2]}\``);
if (kind !== 'ours' && kind !== 'floor' && kind !== 'loop') throw new Error(`profile-p1: expected ours, loop or floor, got \`${kind}\``);
const workload: Workload = { count: 1000, concurrency: 16, latencyMs: 0 };
const shape = await captureRequestShape();
for (let batch = 0; batch <= batches; batch += 1) {
  const timing = kind === 'ours' ? await timeDelegate(workload) : kind === 'loop' ? await timeModelLoop(workload, shape) : await timeFloor(workload, shape);
  console.error(`profile-p1: ${kind} batch ${batch}${batch === 0 ? ' (warm-up)' : ''}: ${timing.cpuMs.toFixed(0)} ms CPU, ${timing.wallMs.toFixed(0)} ms wall`);
}
