import { afterEach, describe, expect, it } from 'vitest';
import { HandleClosedError } from '../../src/errors.js';
import { createCoreRuntime } from '../../src/runtime/runtime.js';
import type { AgentRun, CloseResult, CoreRuntimeOptions, Runtime, SubagentStopEvent } from '../../src/runtime/runtime.js';
import { nextMacrotask, trackedRun } from '../support/tracked-run.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

/** A runtime over a tracked run, recording run ends (events and the stop hook). */
function setup(options: Partial<CoreRuntimeOptions> = {}) {
  const control = trackedRun();
  const ends: SubagentStopEvent[] = [];
  const stopHooks: SubagentStopEvent[] = [];
  const listenerErrors: unknown[] = [];
  const created = createCoreRuntime({
    run: control.run,
    onSubagentStop: (event) => stopHooks.push(event),
    onListenerError: (error) => listenerErrors.push(error),
    ...options,
  });
  created.subscribe((event) => {
    if (event.type === 'run-end') ends.push(event);
  });
  runtime = created;
  /** Most runs active in one handle at any moment is checked by the callers through `active()`. */
  const activeOf = (id: string) => control.active().filter((run) => run.handleId === id);
  return { runtime: created, control, ends, stopHooks, listenerErrors, activeOf };
}

describe('races of the reference implementation', () => {
  describe('an interrupt followed by the queue draining never runs two inputs at once', () => {
    it('an interrupting send while another input is queued aborts the run and runs the new input alone', async () => {
      const { runtime, control, activeOf, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
      runtime.send(handle.id, 'urgent', { interrupt: true });
      expect(control.runs[0]!.signal.aborted).toBe(true);
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['urgent']);
      expect(runtime.get(handle.id)).toMatchObject({ status: 'running', queueSize: 1, queuedPreview: 'second' });
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
      expect(activeOf(handle.id).map((run) => run.input)).toEqual(['second']);
    });

    it('a run resolving in the same tick as an interrupting send lets only the new input run', async () => {
      const { runtime, control, activeOf, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'second');
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
      runtime.interrupt(handle.id);
      control.runs[0]!.reject(new Error('late failure'));
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'interrupted', error: null });
      expect(ends.map((event) => event.outcome)).toEqual(['interrupted']);
    });
  });

  describe('an interrupted run is never reported as cancelled', () => {
    it('interrupt() reports status and outcome `interrupted`, in the event and the stop hook', async () => {
      const { runtime, ends, stopHooks } = setup();
      const handle = runtime.spawn({ message: 'first' });
      expect(runtime.interrupt(handle.id).status).toBe('interrupted');
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'interrupted', lastOutcome: 'interrupted' });
      expect(ends.map((event) => event.outcome)).toEqual(['interrupted']);
      expect(stopHooks.map((event) => event.outcome)).toEqual(['interrupted']);
    });

    it('an interrupting send reports the displaced run as interrupted', () => {
      const { runtime, ends } = setup();
      const handle = runtime.spawn({ message: 'first' });
      runtime.send(handle.id, 'urgent', { interrupt: true });
      expect(ends.map((event) => [event.runId, event.outcome])).toEqual([[1, 'interrupted']]);
      expect(runtime.get(handle.id).lastOutcome).toBe('interrupted');
    });

    it('interrupting a parent reports its descendants as interrupted too', () => {
      const { runtime, ends } = setup({ maxSpawnDepth: 2 });
      const parent = runtime.spawn({ message: 'parent work' });
      const child = runtime.spawn({ parentId: parent.id, message: 'child work' });
      runtime.interrupt(parent.id);
      expect(runtime.get(child.id).status).toBe('interrupted');
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
      control.runs[0]!.resolve('finished just in time');
      const closed = runtime.close(handle.id);
      expect(closed).toMatchObject({ previousStatus: 'running', unprocessed: ['second'] });
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'closed', queueSize: 0, lastOutput: null });
      expect(control.runs).toHaveLength(1);
      expect(control.active()).toEqual([]);
      expect(ends.map((event) => event.outcome)).toEqual(['cancelled']);
    });

    it('a send during close (from the run-end hook close triggers) is refused, and after close too', async () => {
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
      runtime.close(handle.id);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(HandleClosedError);
      expect(() => runtime.send(handle.id, 'after close')).toThrow(HandleClosedError);
      expect(() => runtime.send(handle.id, 'after close', { interrupt: true })).toThrow(HandleClosedError);
      await nextMacrotask();
      expect(runtime.get(handle.id)).toMatchObject({ status: 'closed', queueSize: 0 });
      expect(control.runs).toHaveLength(1);
      expect(listenerErrors).toEqual([]);
    });
  });

  describe('interrupt while waiting for a slot', () => {
    it('keeps the input that had not started, at the head of the queue', async () => {
      const { runtime, control, activeOf } = setup({ maxConcurrentChildren: 1 });
      const busy = runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting-1' });
      runtime.send(waiting.id, 'waiting-2');
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
      expect(activeOf(waiting.id).map((run) => run.input)).toEqual(['waiting-1']);
      activeOf(waiting.id)[0]!.resolve('one');
      await nextMacrotask();
      expect(activeOf(waiting.id).map((run) => run.input)).toEqual(['waiting-2']);
      expect(runtime.get(busy.id).status).toBe('completed');
    });

    it('an interrupt racing the grant of a freed slot neither runs the input nor leaks the slot', async () => {
      const { runtime, control, activeOf } = setup({ maxConcurrentChildren: 1 });
      runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting' });
      control.runs[0]!.resolve('busy done');
      runtime.interrupt(waiting.id);
      await nextMacrotask();
      expect(runtime.get(waiting.id)).toMatchObject({ status: 'interrupted', queueSize: 1 });
      expect(activeOf(waiting.id)).toEqual([]);
      // The slot is free for someone else at once.
      const next = runtime.spawn({ message: 'next' });
      expect(runtime.get(next.id).waitingForSlot).toBe(false);
      expect(activeOf(next.id).map((run) => run.input)).toEqual(['next']);
      expect(runtime.actor.getSnapshot().context.slots.runningTotal).toBe(1);
    });

    it('an interrupting send while waiting goes first; the displaced input keeps its place', () => {
      const { runtime, control, activeOf } = setup({ maxConcurrentChildren: 1 });
      runtime.spawn({ message: 'busy' });
      const waiting = runtime.spawn({ message: 'waiting-1' });
      runtime.send(waiting.id, 'waiting-2');
      runtime.send(waiting.id, 'urgent', { interrupt: true });
      expect(runtime.get(waiting.id)).toMatchObject({ status: 'running', waitingForSlot: true, lastInput: 'urgent', queueSize: 2 });
      expect(runtime.close(waiting.id).unprocessed).toEqual(['urgent', 'waiting-1', 'waiting-2']);
      expect(control.runs).toHaveLength(1);
      expect(activeOf(waiting.id)).toEqual([]);
    });
  });

  // BUG (src/runtime/runtime.ts, spawn at `actor.send({ type: 'HANDLE.SPAWN' ... })` and `command()`): the API sends
  // to the supervisor and reads the result back at once. Called while the supervisor is itself mid-transition — a
  // slot handover (SLOT.RELEASE → SLOT.GRANTED → run start), LIMITS.SET, a cascading command — the event is only
  // queued in its mailbox, so the read sees the state from before. Marked `it.fails` until fixed; remove `.fails` then.
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
      runtime = createCoreRuntime({ run, maxConcurrentChildren: 1, maxSpawnDepth: 2 });
      runtime.spawn({ name: 'busy', message: 'busy' });
      runtime.spawn({ name: 'orchestrator', message: 'fan out' });
      // busy ends: its slot goes to the orchestrator, whose run starts inside the supervisor's SLOT.RELEASE step.
      resolvers[0]!('done');
      await nextMacrotask();
      // Today: spawn throws "the supervisor did not spawn `child`; this is a bug", and the supervisor then spawns
      // `child` anyway from its mailbox: a handle the runtime has no record of (not listed, never given its input).
      expect(errors).toEqual([]);
      expect(runtime.list().map((handle) => handle.id)).toEqual(['busy', 'orchestrator', 'child']);
    });

    it('close() from a start hook during a slot handover closes the handle and hands back its queue', async () => {
      const control = trackedRun();
      let result: CloseResult | undefined;
      const created = createCoreRuntime({
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
      control.runs[0]!.resolve('done');
      await nextMacrotask();
      expect(created.get('kept').status).toBe('closed');
      // Today: status `interrupted` and `unprocessed: []` — the two queued inputs are dropped without being returned.
      expect(result?.handle.status).toBe('closed');
      expect(result?.unprocessed).toEqual(['kept-1', 'kept-2']);
    });
  });
});
