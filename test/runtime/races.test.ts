import { afterEach, describe, expect, it } from 'vitest';
import { HandleClosedError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { AgentRun, CloseResult, RuntimeOptions, Runtime, SubagentStartEvent, SubagentStopEvent } from '../../src/agent/create-runtime.js';
import { nextMacrotask, trackedRun } from '../support/tracked-run.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

/**
 * A runtime over a tracked run, recording run starts and ends (events and hooks).
 *
 * The runtime calls the run function a microtask after a run starts, and delivers events and hooks in a microtask:
 * a test that needs a run really in flight (its run function called) awaits `nextMacrotask()` first, then does its
 * racing operations synchronously, in one tick.
 */
function setup(options: Partial<RuntimeOptions> = {}) {
  const control = trackedRun();
  const starts: SubagentStartEvent[] = [];
  const ends: SubagentStopEvent[] = [];
  const startHooks: SubagentStartEvent[] = [];
  const stopHooks: SubagentStopEvent[] = [];
  const listenerErrors: unknown[] = [];
  const created = createRuntime({
    run: control.run,
    onSubagentStart: (event) => startHooks.push(event),
    onSubagentStop: (event) => stopHooks.push(event),
    onListenerError: (error) => listenerErrors.push(error),
    ...options,
  });
  created.subscribe((event) => {
    if (event.type === 'run-start') starts.push(event);
    if (event.type === 'run-end') ends.push(event);
  });
  runtime = created;
  /** Most runs active in one handle at any moment is checked by the callers through `active()`. */
  const activeOf = (id: string) => control.active().filter((run) => run.handleId === id);
  return { runtime: created, control, starts, ends, startHooks, stopHooks, listenerErrors, activeOf };
}

describe('races of the reference implementation', () => {
  describe('an interrupt followed by the queue draining never runs two inputs at once', () => {
    it('an interrupting send while another input is queued aborts the run and runs the new input alone', async () => {
      const { runtime, control, activeOf, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
      await nextMacrotask();
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['first']);
      runtime.send(handle.id, 'urgent', { interrupt: true });
      expect(control.runs[0]!.signal.aborted).toBe(true);
      expect(runtime.get(handle.id)).toMatchObject({ status: 'running', queueSize: 1, queuedPreview: 'second', lastInput: 'urgent' });
      // The aborted run rejects (it honours its signal): that must not start anything.
      await nextMacrotask();
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['urgent']);
      expect(control.runs.map((run) => run.input)).toEqual(['first', 'urgent']);
      control.runs[1]!.resolve('done urgent');
      await nextMacrotask();
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['second']);
      expect(ends.map((event) => event.outcome)).toEqual(['interrupted', 'completed']);
    });

    it('a run resolving in the same tick as an interrupt ends once, as interrupted, and starts nothing', async () => {
      const { runtime, control, activeOf, ends, stopHooks } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
      await nextMacrotask();
      // Same tick: the run settles, and the interrupt comes before its settlement lands.
      control.runs[0]!.resolve('finished just in time');
      runtime.interrupt(handle.id);
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'interrupted', queueSize: 1, lastOutput: null });
      expect(activeOf(handle.id)).toEqual([]);
      expect(control.runs).toHaveLength(1);
      expect(ends.map((event) => [event.runId, event.outcome])).toEqual([[1, 'interrupted']]);
      expect(stopHooks).toHaveLength(1);
      // Resume goes on with the queue: one run.
      runtime.resume(handle.id);
      await nextMacrotask();
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['second']);
      expect(control.runs).toHaveLength(2);
    });

    it('a run resolving in the same tick as an interrupting send lets only the new input run', async () => {
      const { runtime, control, activeOf, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
      await nextMacrotask();
      // Same tick: the run settles, and the interrupting send comes before its settlement lands.
      control.runs[0]!.resolve('finished just in time');
      runtime.send(handle.id, 'urgent', { interrupt: true });
      await nextMacrotask();
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['urgent']);
      expect(control.runs.map((run) => run.input)).toEqual(['first', 'urgent']);
      expect(ends.map((event) => event.outcome)).toEqual(['interrupted']);
      expect(runtime.get(handle.id).queuedPreview).toBe('second');
    });

    it('a run failing in the same tick as an interrupt ends once, as interrupted', async () => {
      const { runtime, control, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      await nextMacrotask();
      // Same tick: the interrupt, then the (already aborted) run fails.
      runtime.interrupt(handle.id);
      control.runs[0]!.reject(new Error('late failure'));
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'interrupted', error: null });
      expect(ends.map((event) => event.outcome)).toEqual(['interrupted']);
    });
  });

  describe('an interrupted run is never reported as cancelled', () => {
    it('interrupt() reports status and outcome `interrupted`, in the event and the stop hook', async () => {
      const { runtime, control, ends, stopHooks } = setup();
      const handle = runtime.spawn({ message: 'first' });
      await nextMacrotask();
      expect(control.active()).toHaveLength(1);
      expect(runtime.interrupt(handle.id).status).toBe('interrupted');
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'interrupted', lastOutcome: 'interrupted' });
      expect(ends.map((event) => event.outcome)).toEqual(['interrupted']);
      expect(stopHooks.map((event) => event.outcome)).toEqual(['interrupted']);
    });

    it('an interrupting send reports the displaced run as interrupted', async () => {
      const { runtime, control, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      await nextMacrotask();
      expect(control.active()).toHaveLength(1);
      runtime.send(handle.id, 'urgent', { interrupt: true });
      expect(runtime.get(handle.id).lastOutcome).toBe('interrupted');
      await nextMacrotask();
      expect(ends.map((event) => [event.runId, event.outcome])).toEqual([[1, 'interrupted']]);
    });

    it('interrupting a parent reports its descendants as interrupted too', async () => {
      const { runtime, control, ends } = setup({ maxSpawnDepth: 2 });
      const parent = runtime.spawn({ message: 'parent work' });
      const child = runtime.spawn({ parentId: parent.id, message: 'child work' });
      await nextMacrotask();
      expect(control.active()).toHaveLength(2);
      runtime.interrupt(parent.id);
      expect(runtime.get(child.id).status).toBe('interrupted');
      expect(control.active()).toEqual([]);
      await nextMacrotask();
      expect(ends.map((event) => [event.handleId, event.outcome])).toEqual([
        [child.id, 'interrupted'],
        [parent.id, 'interrupted'],
      ]);
    });
  });

  describe('close', () => {
    it('a run resolving in the same tick as close ends once; the handle is closed and nothing new starts', async () => {
      const { runtime, control, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
      await nextMacrotask();
      // Same tick: the run settles, and close comes before its settlement lands.
      control.runs[0]!.resolve('finished just in time');
      const closed = runtime.close(handle.id);
      expect(closed).toMatchObject({ previousStatus: 'running', unprocessed: ['second'] });
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'closed', queueSize: 0, lastOutput: null });
      expect(control.runs).toHaveLength(1);
      expect(control.active()).toEqual([]);
      expect(ends.map((event) => event.outcome)).toEqual(['cancelled']);
    });

    it('a send from the run-end hook that close triggers is refused, and after close too', async () => {
      const refused: unknown[] = [];
      let target = '';
      const { runtime, control, listenerErrors } = setup({
        onSubagentStop: () => {
          try {
            runtime.send(target, 'sneaked in');
          } catch (error) {
            refused.push(error);
          }
        },
      });
      const handle = runtime.spawn({ message: 'first' });
      target = handle.id;
      await nextMacrotask();
      expect(control.active()).toHaveLength(1);
      runtime.close(handle.id);
      // The hook runs a microtask after close, on the closed handle.
      await nextMacrotask();
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(HandleClosedError);
      expect(() => runtime.send(handle.id, 'after close')).toThrow(HandleClosedError);
      expect(() => runtime.send(handle.id, 'after close', { interrupt: true })).toThrow(HandleClosedError);
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'closed', queueSize: 0 });
      expect(control.runs).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(listenerErrors).toEqual([]);
    });
  });

  describe('interrupt while waiting for a slot', () => {
    it('keeps the input that had not started, at the head of the queue', async () => {
      const { runtime, control, activeOf } = setup({ maxConcurrentChildren: 1 });
      const busy = runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting-1' });
      runtime.send(waiting.id, 'waiting-2');
      await nextMacrotask();
      expect(runtime.get(waiting.id).waitingForSlot).toBe(true);
      const after = runtime.interrupt(waiting.id);
      expect(after).toMatchObject({ status: 'interrupted', queueSize: 2, queuedPreview: 'waiting-1', waitingForSlot: false });
      // The slot frees: the interrupted handle does not take it.
      control.runs[0]!.resolve('busy done');
      await nextMacrotask();
      expect(activeOf(waiting.id)).toEqual([]);
      expect(runtime.get(waiting.id).status).toBe('interrupted');
      // Resume goes on with the queue, in order.
      runtime.resume(waiting.id);
      await nextMacrotask();
      expect(activeOf(waiting.id).map((run) => run.input)).toEqual(['waiting-1']);
      activeOf(waiting.id)[0]!.resolve('one');
      await nextMacrotask();
      expect(activeOf(waiting.id).map((run) => run.input)).toEqual(['waiting-2']);
      expect(runtime.get(busy.id).status).toBe('completed');
    });

    it('an interrupt racing the grant of a freed slot neither runs the input nor leaks the slot', async () => {
      const { runtime, control, activeOf, ends } = setup({ maxConcurrentChildren: 1 });
      runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting' });
      await nextMacrotask();
      // Same tick: the busy run settles (freeing the slot once that lands), and the waiting handle is interrupted.
      control.runs[0]!.resolve('busy done');
      runtime.interrupt(waiting.id);
      await nextMacrotask();
      expect(runtime.get(waiting.id)).toMatchObject({ status: 'interrupted', queueSize: 1 });
      expect(activeOf(waiting.id)).toEqual([]);
      expect(ends.filter((event) => event.handleId === waiting.id)).toEqual([]);
      // The slot is free for someone else at once.
      const next = runtime.spawn({ message: 'next' });
      expect(runtime.get(next.id).waitingForSlot).toBe(false);
      await nextMacrotask();
      expect(activeOf(next.id).map((run) => run.input)).toEqual(['next']);
      expect(runtime.actor.getSnapshot().context.book.running).toBe(1);
    });

    it('an interrupting send while waiting goes first; the displaced input keeps its place', async () => {
      const { runtime, control, activeOf, starts } = setup({ maxConcurrentChildren: 1 });
      runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting-1' });
      runtime.send(waiting.id, 'waiting-2');
      await nextMacrotask();
      runtime.send(waiting.id, 'urgent', { interrupt: true });
      expect(runtime.get(waiting.id)).toMatchObject({ status: 'running', waitingForSlot: true, lastInput: 'urgent', queueSize: 2 });
      expect(runtime.close(waiting.id).unprocessed).toEqual(['urgent', 'waiting-1', 'waiting-2']);
      await nextMacrotask();
      expect(control.runs).toHaveLength(1);
      expect(activeOf(waiting.id)).toEqual([]);
      expect(starts.filter((event) => event.handleId === waiting.id)).toEqual([]);
    });
  });

  // A run counts as started when its run actor starts; its run function is called a microtask later. Aborted in between,
  // the run function is never called, yet the run is reported like any other: one start, one end.
  describe('a run aborted before its run function was called', () => {
    it('interrupt right after spawn: the run function is never called; one run-start and one run-end, interrupted', async () => {
      const { runtime, control, starts, ends, startHooks, stopHooks, activeOf } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
      expect(runtime.get(handle.id)).toMatchObject({ status: 'running', lastInput: 'first' });
      expect(control.runs).toEqual([]);
      expect(runtime.interrupt(handle.id)).toMatchObject({ status: 'interrupted', queueSize: 1, queuedPreview: 'second' });
      await nextMacrotask();
      expect(control.runs).toEqual([]);
      expect(starts.map((event) => [event.handleId, event.runId, event.input])).toEqual([[handle.id, 1, 'first']]);
      expect(ends.map((event) => [event.handleId, event.runId, event.outcome, event.output])).toEqual([[handle.id, 1, 'interrupted', null]]);
      expect(startHooks.map((event) => event.runId)).toEqual([1]);
      expect(stopHooks.map((event) => [event.runId, event.outcome])).toEqual([[1, 'interrupted']]);
      expect(runtime.get(handle.id)).toMatchObject({ status: 'interrupted', lastOutcome: 'interrupted', queueSize: 1 });
      // The interrupted input is spent, not retried: resume runs the next one, as run 2.
      runtime.resume(handle.id);
      await nextMacrotask();
      expect(control.runs.map((run) => [run.runId, run.input])).toEqual([[2, 'second']]);
      expect(activeOf(handle.id)).toHaveLength(1);
      expect(starts.map((event) => event.runId)).toEqual([1, 2]);
      expect(ends.map((event) => event.runId)).toEqual([1]);
    });

    it('an interrupting send right after spawn: only the new input reaches the run function', async () => {
      const { runtime, control, starts, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'urgent', { interrupt: true });
      await nextMacrotask();
      expect(control.runs.map((run) => [run.runId, run.input])).toEqual([[2, 'urgent']]);
      expect(starts.map((event) => [event.runId, event.input])).toEqual([
        [1, 'first'],
        [2, 'urgent'],
      ]);
      expect(ends.map((event) => [event.runId, event.outcome])).toEqual([[1, 'interrupted']]);
    });

    it('close on a slot handover: the granted run is never called, and is reported cancelled', async () => {
      const { runtime, control, starts, ends } = setup({ maxConcurrentChildren: 1 });
      const busy = runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting' });
      await nextMacrotask();
      // Closing busy hands its slot to waiting, whose run starts; waiting is closed in the same tick.
      runtime.close(busy.id);
      expect(runtime.get(waiting.id)).toMatchObject({ status: 'running', waitingForSlot: false });
      expect(runtime.close(waiting.id)).toMatchObject({ previousStatus: 'running', unprocessed: [] });
      await nextMacrotask();
      expect(control.runs.map((run) => run.handleId)).toEqual([busy.id]);
      expect(starts.map((event) => event.handleId)).toEqual([busy.id, waiting.id]);
      expect(ends.map((event) => [event.handleId, event.outcome])).toEqual([
        [busy.id, 'cancelled'],
        [waiting.id, 'cancelled'],
      ]);
    });
  });

  // The API sends to the supervisor and reads the result back at once (spawn at `actor.send({ type: 'HANDLE.SPAWN' ... })`,
  // `command()`). Called while the supervisor is itself mid-transition — a slot handover (SLOT.RELEASE → SLOT.GRANTED →
  // run start), LIMITS.SET, a cascading command — the event would only be queued in its mailbox, and the read would see
  // the state from before. The runtime therefore keeps all user code out of transitions: run functions are called a
  // microtask after their run starts, and hooks and listeners get their events in a microtask.
  describe('API calls made while the supervisor is mid-transition', () => {
    it('a run that spawns a child as it starts on a handed-over slot gets its child', async () => {
      const resolvers: Array<(output: string) => void> = [];
      const errors: unknown[] = [];
      const run: AgentRun = (input, context) => {
        if (input === 'fan out') {
          try {
            context.runtime.spawn({ parentId: context.handle.id, name: 'child', message: 'child task' });
          } catch (error) {
            errors.push(error);
          }
        }
        return new Promise<string>((resolve) => resolvers.push(resolve));
      };
      runtime = createRuntime({ run, maxConcurrentChildren: 1, maxSpawnDepth: 2 });
      runtime.spawn({ name: 'busy', message: 'busy' });
      runtime.spawn({ name: 'orchestrator', message: 'fan out' });
      await nextMacrotask();
      expect(resolvers).toHaveLength(1);
      // busy ends: its slot goes to the orchestrator, whose run starts inside the supervisor's SLOT.RELEASE step.
      resolvers[0]!('done');
      await nextMacrotask();
      // Before the fix: spawn threw "the supervisor did not spawn `child`; this is a bug", and the supervisor then
      // spawned `child` anyway from its mailbox: a handle the runtime had no record of (not listed, never given its input).
      expect(errors).toEqual([]);
      expect(runtime.list().map((handle) => handle.id)).toEqual(['busy', 'orchestrator', 'child']);
      expect(runtime.get('child')).toMatchObject({ status: 'running', parentId: 'orchestrator', lastInput: 'child task' });
    });

    it('close() from a start hook during a slot handover closes the handle and hands back its queue', async () => {
      const control = trackedRun();
      let result: CloseResult | undefined;
      const created = createRuntime({
        run: control.run,
        maxConcurrentChildren: 1,
        onSubagentStart: (event) => {
          if (event.handleId === 'starter') result = created.close('kept');
        },
      });
      runtime = created;
      created.spawn({ name: 'busy', message: 'busy' });
      created.spawn({ name: 'kept', message: 'kept-1' });
      created.send('kept', 'kept-2');
      created.interrupt('kept');
      created.spawn({ name: 'starter', message: 'start' });
      await nextMacrotask();
      expect(control.runs.map((run) => run.handleId)).toEqual(['busy']);
      expect(result).toBeUndefined();
      // busy ends: its slot goes to the starter, whose run starts inside the supervisor's SLOT.RELEASE step.
      control.runs[0]!.resolve('done');
      await nextMacrotask();
      expect(created.get('kept').status).toBe('closed');
      // Before the fix: status `interrupted` and `unprocessed: []` — the two queued inputs were dropped without being returned.
      expect(result?.handle.status).toBe('closed');
      expect(result?.unprocessed).toEqual(['kept-1', 'kept-2']);
    });
  });
});
