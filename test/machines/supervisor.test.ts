import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { ActorRefFrom, InspectionEvent } from 'xstate';
import { DepthLimitError } from '../../src/errors.js';
import { handleMachine } from '../../src/machines/handle.js';
import type { HandleMachine } from '../../src/machines/handle.js';
import { handleSystemId, spawnRefusal, startHandleActor, supervisorMachine } from '../../src/machines/supervisor.js';
import type { SpawnSpec, SupervisorLimits } from '../../src/machines/supervisor.js';
import { fakeAgentRun, flushMicrotasks } from '../support/fake-agent-run.js';

const spec = (id: string, parentId: string | null = null): SpawnSpec => ({
  id,
  name: id,
  parentId,
  role: 'leaf',
  agentType: 'general',
  model: null,
  goal: null,
  limits: { childTimeoutMs: null, staleTimeoutMs: null, maxRunTokens: null },
  delegated: false,
  setup: null,
});

let stopActor: (() => void) | undefined;
afterEach(() => {
  stopActor?.();
  stopActor = undefined;
});

/** A supervisor whose handles run a controllable fake; records which handle received which event, in order. */
function startSupervisor(limits: Partial<SupervisorLimits> = {}) {
  const fake = fakeAgentRun();
  const received: Array<{ sessionId: string; type: string }> = [];
  const errors: unknown[] = [];
  const handleLogic = handleMachine.provide({ actors: { agentRun: fake.logic } });
  const actor = createActor(supervisorMachine, {
    input: { limits },
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.event') received.push({ sessionId: event.actorRef.sessionId, type: event.event.type });
    },
  });
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  stopActor = () => actor.stop();
  const book = () => actor.getSnapshot().context.book;
  /** Asks the supervisor to admit a handle and, when it does, starts the handle's actor (as the runtime does). */
  const spawn = (handleSpec: SpawnSpec) => {
    actor.send({ type: 'HANDLE.SPAWN', spec: handleSpec });
    const entry = book().entry(handleSpec.id);
    if (entry && !actor.system.get(handleSystemId(entry.key))) startHandleActor(actor, handleLogic, handleSpec, entry);
  };
  // A stopped handle leaves the system's registry; its reference (and snapshot) stays readable here.
  const known = new Map<string, ActorRefFrom<HandleMachine>>();
  const handle = (id: string): ActorRefFrom<HandleMachine> => {
    const seen = known.get(id);
    if (seen) return seen;
    const entry = book().entry(id);
    if (!entry) throw new Error(`no handle ${id}`);
    const ref = actor.system.get(handleSystemId(entry.key)) as ActorRefFrom<HandleMachine> | undefined;
    if (!ref) throw new Error(`no child ${entry.key}`);
    known.set(id, ref);
    return ref;
  };
  const status = (id: string) => {
    const value = handle(id).getSnapshot().value;
    if (typeof value === 'string') return value;
    const running = value.running;
    return `running.${typeof running === 'string' ? running : Object.keys(running)[0]}`;
  };
  const send = (id: string, message: string, interrupt = false) =>
    handle(id).send({ type: 'INPUT.SEND', input: { seq: 0, message }, interrupt });
  /** Public ids in the order they received events of `type`. */
  const receivedOrder = (type: string) => {
    const idOfSession = new Map([...book().ids()].map((id) => [handle(id).sessionId, id]));
    return received.filter((event) => event.type === type).map((event) => idOfSession.get(event.sessionId));
  };
  return { actor, fake, errors, book, handle, status, send, receivedOrder, spawn };
}

describe('supervisor machine', () => {
  it('spawns handles into a tree with depths, parents and integer-like child ids', () => {
    const { actor, book, handle, spawn } = startSupervisor({ maxSpawnDepth: 3 });
    spawn(spec('a'));
    spawn(spec('b'));
    spawn(spec('a1', 'a'));
    spawn(spec('a1x', 'a1'));
    const tree = Object.fromEntries([...book().ids()].map((id) => [id, { ...book().entry(id), children: book().childrenOf(id) }]));
    expect(tree).toEqual({
      a: { key: '0', parentId: null, depth: 1, children: ['a1'] },
      b: { key: '1', parentId: null, depth: 1, children: [] },
      a1: { key: '2', parentId: 'a', depth: 2, children: ['a1x'] },
      a1x: { key: '3', parentId: 'a1', depth: 3, children: [] },
    });
    expect(['0', '1', '2', '3', '4'].map((key) => actor.system.get(handleSystemId(key)) !== undefined)).toEqual([true, true, true, true, false]);
    // Handles are actors of the supervisor's system with it as their parent, not children copied into its snapshot.
    expect(handle('a')._parent).toBe(actor);
    expect(actor.getSnapshot().children).toEqual({});
    expect(handle('a1x').getSnapshot().context.spec).toMatchObject({ id: 'a1x', key: '3', parentId: 'a1', depth: 3 });
    expect(handle('a').getSnapshot().value).toBe('idle');
  });

  it('refuses a spawn from a parent at the maximum depth, naming the limit and how to raise it', () => {
    const { actor, book, spawn } = startSupervisor({ maxSpawnDepth: 1 });
    spawn(spec('a'));
    const refusal = spawnRefusal(actor.getSnapshot().context, spec('a1', 'a'));
    expect(refusal).toBeInstanceOf(DepthLimitError);
    expect(refusal).toMatchObject({ depth: 1, maxSpawnDepth: 1 });
    expect(refusal?.message).toMatch(/maxSpawnDepth \(1\)/);
    expect(refusal?.message).toMatch(/raise `maxSpawnDepth`/);
    spawn(spec('a1', 'a'));
    expect([...book().ids()]).toEqual(['a']);
    expect(['0', '1'].map((key) => actor.system.get(handleSystemId(key)) !== undefined)).toEqual([true, false]);
    expect(book().toJSON().spawned).toBe(1);
  });

  it('starts a run only when its slot is granted, and hands the slot on when the run ends', async () => {
    const { book, fake, status, send, spawn } = startSupervisor({ maxConcurrentChildren: 1 });
    spawn(spec('a'));
    spawn(spec('b'));
    send('a', 'first');
    send('b', 'second');
    expect([status('a'), status('b')]).toEqual(['running.working', 'running.awaitingSlot']);
    expect(fake.runs.map((run) => run.request.message)).toEqual(['first']);
    fake.runs[0]!.resolve({ output: 'done' });
    await flushMicrotasks();
    expect([status('a'), status('b')]).toEqual(['completed', 'running.working']);
    expect([book().slotOf('0'), book().slotOf('1'), book().running]).toEqual([undefined, { slotSeq: 1, holds: true }, 1]);
  });

  it('admits waiting handles when the limits are raised', () => {
    const { actor, status, send , spawn } = startSupervisor({ maxConcurrentChildren: 1 });
    for (const id of ['a', 'b', 'c']) {
      spawn(spec(id));
      send(id, `task ${id}`);
    }
    expect(['a', 'b', 'c'].map(status)).toEqual(['running.working', 'running.awaitingSlot', 'running.awaitingSlot']);
    actor.send({ type: 'LIMITS.SET', limits: { maxSpawnDepth: 1, maxConcurrentChildren: 2, maxConcurrentRuns: null } });
    expect(['a', 'b', 'c'].map(status)).toEqual(['running.working', 'running.working', 'running.awaitingSlot']);
    expect(actor.getSnapshot().context.limits.maxConcurrentChildren).toBe(2);
  });

  describe.each([
    ['RUN.INTERRUPT', 'interrupted'],
    ['RUN.CANCEL', 'cancelled'],
    ['HANDLE.CLOSE', 'closed'],
  ] as const)('cascading %s', (command, stopped) => {
    it(`stops the handle and every descendant, deepest first (${stopped})`, () => {
      const { actor, fake, book, status, send, receivedOrder, spawn } = startSupervisor({ maxSpawnDepth: 3 });
      // a ─┬─ a1 ── a1x
      //    └─ a2          b (outside the subtree)
      for (const [id, parent] of [['a', null], ['a1', 'a'], ['a1x', 'a1'], ['a2', 'a'], ['b', null]] as const) {
        spawn(spec(id, parent));
        send(id, `task ${id}`);
        send(id, `queued ${id}`);
      }
      expect([...book().ids()].map(status)).toEqual(Array(5).fill('running.working'));
      actor.send({ type: 'HANDLE.COMMAND', id: 'a', command, cascade: true });
      expect(receivedOrder(command)).toEqual(['a1x', 'a1', 'a2', 'a']);
      expect(['a', 'a1', 'a1x', 'a2'].map(status)).toEqual(Array(4).fill(stopped));
      expect(status('b')).toBe('running.working');
      // The runs of the stopped handles were aborted; b's goes on.
      expect(fake.runs.map((run) => [run.request.handleId, run.aborted])).toEqual([
        ['a', true],
        ['a1', true],
        ['a1x', true],
        ['a2', true],
        ['b', false],
      ]);
      // Their slots are free: only b holds one.
      expect(['a', 'a1', 'a1x', 'a2', 'b'].map((id) => book().slotOf(book().entry(id)!.key)?.holds ?? false)).toEqual([false, false, false, false, true]);
      expect(book().running).toBe(1);
    });
  });

  it('stops only the handle itself when the command does not cascade', () => {
    const { actor, status, send , spawn } = startSupervisor({ maxSpawnDepth: 2 });
    spawn(spec('a'));
    spawn(spec('a1', 'a'));
    send('a', 'x');
    send('a1', 'y');
    actor.send({ type: 'HANDLE.COMMAND', id: 'a', command: 'RUN.INTERRUPT', cascade: false });
    expect([status('a'), status('a1')]).toEqual(['interrupted', 'running.working']);
  });

  it('closes every handle on shutdown, and takes no new spawn afterwards', () => {
    const { actor, fake, book, status, send, receivedOrder, spawn } = startSupervisor({ maxSpawnDepth: 2, maxConcurrentChildren: 1 });
    spawn(spec('a'));
    spawn(spec('a1', 'a'));
    spawn(spec('b'));
    spawn(spec('idle'));
    send('a', 'x');
    send('a1', 'y');
    send('b', 'z'); // waits: a holds the root's only slot
    expect(status('b')).toBe('running.awaitingSlot');
    expect(status('idle')).toBe('idle');
    actor.send({ type: 'SUPERVISOR.SHUTDOWN' });
    expect(actor.getSnapshot().value).toBe('shutDown');
    // The runtime then closes the handles, a batch at a time.
    actor.send({ type: 'HANDLES.CLOSE', ids: ['a', 'a1'] });
    actor.send({ type: 'HANDLES.CLOSE', ids: ['b', 'idle'] });
    expect([...book().ids()].map(status)).toEqual(['closed', 'closed', 'closed', 'closed']);
    expect(receivedOrder('HANDLE.CLOSE').sort()).toEqual(['a', 'a1', 'b', 'idle']);
    expect(fake.runs.every((run) => run.aborted)).toBe(true);
    expect(fake.runs.map((run) => run.request.handleId)).toEqual(['a', 'a1']);
    expect([book().running, book().waiting]).toEqual([0, 0]);
    // Closed, then stopped on request, a batch at a time: no handle actor is left in the system.
    expect(['0', '1', '2', '3'].map((key) => actor.system.get(handleSystemId(key)) !== undefined)).toEqual([true, true, true, true]);
    actor.send({ type: 'HANDLES.STOP', ids: ['a', 'a1'] });
    actor.send({ type: 'HANDLES.STOP', ids: ['b', 'idle'] });
    expect(['0', '1', '2', '3'].map((key) => actor.system.get(handleSystemId(key)) !== undefined)).toEqual([false, false, false, false]);
    spawn(spec('late'));
    expect(book().entry('late')).toBeUndefined();
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('ignores bad events without throwing and stays running', () => {
    const { actor, errors, book, status, send, spawn } = startSupervisor();
    spawn(spec('a'));
    send('a', 'x');
    expect(() => actor.send({ type: 'HANDLE.COMMAND', id: 'nope', command: 'HANDLE.CLOSE', cascade: true })).not.toThrow();
    actor.send({ type: 'SPAWNING.PAUSE', paused: true });
    expect(() => actor.send({ type: 'HANDLE.SPAWN', spec: spec('b') })).not.toThrow();
    expect(book().entry('b')).toBeUndefined();
    actor.send({ type: 'SPAWNING.PAUSE', paused: false });
    // Unknown parent, duplicate id, a release nobody asked for: refused or ignored.
    spawn(spec('c', 'ghost'));
    spawn(spec('a'));
    actor.send({ type: 'SLOT.RELEASE', key: '99', parentId: null, slotSeq: 5 });
    actor.send({ type: 'SLOT.RELEASE', key: '0', parentId: null, slotSeq: 0 });
    expect([...book().ids()]).toEqual(['a']);
    expect(actor.getSnapshot().status).toBe('active');
    expect(actor.getSnapshot().value).toBe('active');
    expect(errors).toEqual([]);
    expect(status('a')).toBe('running.working');
    expect(book().running).toBe(1);
    // Spawning works again once unpaused.
    spawn(spec('b'));
    expect(book().entry('b')?.key).toBe('1');
  });

  it('survives a handle actor that fails: the supervisor stays active and the failed handle frees its slot', async () => {
    const fake = fakeAgentRun();
    const failing = handleMachine.provide({
      actors: { agentRun: fake.logic },
      actions: {
        endRun: ({ context }) => {
          if (context.spec.id === 'bad') throw new Error('a broken action');
        },
      },
    });
    const actor = createActor(supervisorMachine, { input: { limits: { maxConcurrentChildren: 1 } } });
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    const failed: Array<{ id: string; error: unknown }> = [];
    actor.on('handle-failed', ({ id, error }) => failed.push({ id, error }));
    actor.start();
    stopActor = () => actor.stop();
    for (const id of ['bad', 'next']) {
      actor.send({ type: 'HANDLE.SPAWN', spec: spec(id) });
      startHandleActor(actor, failing, spec(id), actor.getSnapshot().context.book.entry(id)!);
    }
    const refs = new Map<string, ActorRefFrom<HandleMachine>>();
    const child = (id: string) => {
      if (!refs.has(id)) refs.set(id, actor.system.get(handleSystemId(actor.getSnapshot().context.book.entry(id)!.key)) as ActorRefFrom<HandleMachine>);
      return refs.get(id)!;
    };
    child('next');
    child('bad').send({ type: 'INPUT.SEND', input: { seq: 1, message: 'x' }, interrupt: false });
    child('next').send({ type: 'INPUT.SEND', input: { seq: 2, message: 'y' }, interrupt: false });
    await flushMicrotasks();
    expect(child('next').getSnapshot().matches({ running: 'awaitingSlot' })).toBe(true);
    fake.runs[0]!.resolve({ output: 'done' });
    await flushMicrotasks();
    expect(child('bad').getSnapshot().status).toBe('error');
    expect(actor.getSnapshot().status).toBe('active');
    expect(errors).toEqual([]);
    // The runtime logs the failure from what the supervisor emits: which handle, and what it threw.
    expect(failed).toHaveLength(1);
    expect(failed[0]!.id).toBe('bad');
    expect((failed[0]!.error as Error).message).toBe('a broken action');
    expect(child('next').getSnapshot().matches({ running: 'working' })).toBe(true);
  });
});
