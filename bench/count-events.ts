/**
 * XState events, actors and snapshots per child in P1's workload, by event
 * and receiver, from an inspection observer:
 * `node dist-bench/bench/count-events.js [tasks]`.
 */
import { createRuntime } from '../src/agent/create-runtime.js';
import { clientFor, goalOf, lookupTool, MODEL } from './fixtures.js';
import { startServerProcess } from './remote-server.js';

const count = Number(process.argv[2] ?? 200);
if (!Number.isInteger(count) || count < 1) throw new Error(`count-events: expected a task count >= 1, got \`${process.argv[2]}\``);
const server = await startServerProcess(0);
const events = new Map<string, number>();
let actors = 0;
let snapshots = 0;
const runtime = createRuntime({
  client: clientFor(server),
  model: MODEL,
  tools: [lookupTool],
  maxConcurrentChildren: 16,
  inspect: (inspection) => {
    if (inspection.type === '@xstate.actor') actors += 1;
    if (inspection.type === '@xstate.snapshot') snapshots += 1;
    if (inspection.type !== '@xstate.event') return;
    // Handles are registered under integer-like keys; the supervisor is `x:0`.
    const { id } = inspection.actorRef as { id?: string };
    const key = `${inspection.event.type} → ${id !== undefined && /^\d+$/.test(id) ? 'handle' : (id ?? '?')}`;
    events.set(key, (events.get(key) ?? 0) + 1);
  },
});
const tasks = Array.from({ length: count }, (_, index) => ({ goal: goalOf(index) }));
await runtime.delegate({ tasks }).result;
await runtime.shutdown();
await server.close();
const perChild = (value: number) => (value / count).toFixed(2);
let total = 0;
for (const [key, value] of [...events].sort((a, b) => b[1] - a[1])) {
  total += value;
  console.log(`${perChild(value)}  ${key}`);
}
console.log(`per child: ${perChild(total)} events, ${perChild(actors)} actors, ${perChild(snapshots)} snapshots (${count} tasks)`);
