import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { DepthLimitError, HandleClosedError, SpawningPausedError, UnknownHandleError, BadArgumentError } from '../../src/errors.js';
import { controllableRun } from '../support/controllable-run.js';
import { nextMacrotask } from '../support/tracked-run.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

describe('runtime', () => {
  it('runs an input to completion and wait returns the output', async () => {
    runtime = createRuntime({ run: async (input) => `done: ${input}` });
    const handle = runtime.spawn({ message: 'task one' });
    expect(handle.status).toBe('running');
    const result = await runtime.wait(handle.id, { timeoutMs: 1000 });
    expect(result.pending).toEqual([]);
    expect(result.completed[0]?.status).toBe('completed');
    expect(result.completed[0]?.lastOutput).toBe('done: task one');
  });

  it('queues a send while running and starts it when the run finishes', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run });
    const handle = runtime.spawn({ message: 'first' });
    runtime.send(handle.id, 'second');
    expect(runtime.get(handle.id).queueSize).toBe(1);
    // The run function is called a microtask after the run starts.
    await nextMacrotask();
    expect(control.runs).toHaveLength(1);
    control.runs[0]?.resolve('one');
    await nextMacrotask();
    expect(control.runs).toHaveLength(2);
    expect(control.runs[1]?.input).toBe('second');
    expect(runtime.get(handle.id).queueSize).toBe(0);
  });

  it('interrupt aborts the in-flight run and keeps the queue', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run });
    const handle = runtime.spawn({ message: 'first' });
    runtime.send(handle.id, 'second');
    await nextMacrotask();
    expect(control.runs[0]?.aborted).toBe(false);
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const after = runtime.interrupt(handle.id);
    expect(after.status).toBe('interrupted');
    expect(after.queueSize).toBe(1);
    expect(control.runs[0]?.aborted).toBe(true);
    // Events reach listeners a microtask later.
    await nextMacrotask();
    expect(events.filter((event) => event.type === 'run-end').map((event) => event.type === 'run-end' && event.outcome)).toEqual(['interrupted']);
    const resumed = runtime.resume(handle.id);
    expect(resumed.status).toBe('running');
    await nextMacrotask();
    expect(control.runs.map((run) => run.input)).toEqual(['first', 'second']);
  });

  it('cancel returns the discarded queue and close returns the previous status', () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run });
    const handle = runtime.spawn({ message: 'first' });
    runtime.send(handle.id, 'second');
    runtime.send(handle.id, 'third');
    const cancelled = runtime.cancel(handle.id);
    expect(cancelled.handle.status).toBe('cancelled');
    expect(cancelled.discarded).toEqual(['second', 'third']);
    runtime.send(handle.id, 'fourth');
    runtime.send(handle.id, 'fifth');
    const closed = runtime.close(handle.id);
    expect(closed.previousStatus).toBe('running');
    expect(closed.unprocessed).toEqual(['fifth']);
    expect(closed.handle.status).toBe('closed');
    expect(() => runtime?.send(handle.id, 'x')).toThrow(HandleClosedError);
    expect(runtime.resume(handle.id).status).toBe('idle');
  });

  it('caps running children per parent and hands slots over in FIFO order', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run, maxConcurrentChildren: 2 });
    const handles = [0, 1, 2, 3].map((index) => runtime!.spawn({ message: `task ${index}` }));
    await nextMacrotask();
    expect(control.runs.map((run) => run.input)).toEqual(['task 0', 'task 1']);
    expect(runtime.get(handles[2]!.id).waitingForSlot).toBe(true);
    runtime.close(handles[0]!.id);
    expect(runtime.get(handles[2]!.id)).toMatchObject({ status: 'running', waitingForSlot: false });
    await nextMacrotask();
    expect(control.runs.map((run) => run.input)).toEqual(['task 0', 'task 1', 'task 2']);
    expect(runtime.get(handles[3]!.id).waitingForSlot).toBe(true);
  });

  it('refuses spawns beyond the depth limit, while paused, and for unknown ids', () => {
    runtime = createRuntime({ run: async () => 'x' });
    const child = runtime.spawn();
    expect(() => runtime?.spawn({ parentId: child.id })).toThrow(DepthLimitError);
    runtime.pauseSpawning();
    expect(() => runtime?.spawn()).toThrow(SpawningPausedError);
    runtime.pauseSpawning(false);
    expect(() => runtime?.get('nope')).toThrow(UnknownHandleError);
    expect(() => runtime?.send(child.id, '')).toThrow(BadArgumentError);
  });

  it('wait returns pending at the timeout', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run });
    const handle = runtime.spawn({ message: 'slow' });
    const result = await runtime.wait(handle.id, { timeoutMs: 20 });
    expect(result.timedOut).toBe(true);
    expect(result.pending.map((snapshot) => snapshot.id)).toEqual([handle.id]);
  });
});
