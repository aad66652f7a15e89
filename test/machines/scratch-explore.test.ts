import { it } from 'vitest';
import { getShortestPaths, getAdjacencyMap } from 'xstate/graph';
import { handleMachine } from '../../src/machines/handle.js';
import type { HandleEvent, HandleInput } from '../../src/machines/handle.js';
import type { SnapshotFrom } from 'xstate';

const machine = handleMachine.provide({ actions: { requestSlot: () => {}, releaseSlot: () => {} } });
type S = SnapshotFrom<typeof machine>;
const input: HandleInput = { id: 'h', key: '0', name: 'h', parentId: null, depth: 1, role: 'leaf', agentType: 'general', model: null, goal: null };
function eventsFor(s: S): HandleEvent[] {
  const c = s.context;
  const ev: unknown[] = [];
  const L = Number(process.env.L ?? 3);
  const canEnter = c.slotSeq < L;
  if (c.queue.length < 2 && canEnter && c.runsStarted < L) {
    ev.push({ type: 'INPUT.SEND', input: { seq: 1, message: `q${c.queue.length}` }, interrupt: false });
    ev.push({ type: 'INPUT.SEND', input: { seq: 2, message: 'urgent' }, interrupt: true });
  }
  ev.push({ type: 'RUN.INTERRUPT' }, { type: 'RUN.CANCEL' }, { type: 'HANDLE.CLOSE' });
  if (canEnter || c.queue.length === 0) ev.push({ type: 'HANDLE.RESUME' });
  ev.push({ type: 'SLOT.GRANTED', slotSeq: c.slotSeq });
  if (c.slotSeq > 0) ev.push({ type: 'SLOT.GRANTED', slotSeq: c.slotSeq - 1 });
  if (c.usage.inputTokens < 2) ev.push({ type: 'RUN.USAGE', usage: { inputTokens: 1, outputTokens: 2 } });
  if (canEnter || c.queue.length === 0) {
  ev.push({ type: 'xstate.done.actor.agentRun', output: { output: `out${c.runsStarted}` } });
  ev.push({ type: 'xstate.error.actor.agentRun', error: new Error('boom') });
  ev.push({ type: 'xstate.error.actor.agentRun', error: { code: 'timeout', message: 'slow' } });
  }
  return ev as HandleEvent[];
}
const serializeState = (s: S) => { const { createdAt: _a, updatedAt: _b, ...rest } = s.context; return JSON.stringify({ v: s.value, c: rest }); };
it('explores', () => {
  const t0 = performance.now();
  const opts = { input, events: eventsFor, serializeState };
  const paths = getShortestPaths(machine, opts);
  const adj = getAdjacencyMap(machine, opts);
  let edges = 0; for (const v of Object.values(adj)) edges += Object.keys(v.transitions).length;
  const steps = paths.reduce((n, p) => n + p.steps.length, 0);
  console.log({ states: Object.keys(adj).length, paths: paths.length, steps, edges, ms: performance.now() - t0 });
});
