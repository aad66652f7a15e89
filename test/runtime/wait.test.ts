import { afterEach, describe, expect, it, vi } from 'vitest';
import { UnknownHandleError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import type { WaitResult } from '../../src/runtime/waiters.js';
import { nextMacrotask, trackedRun } from '../support/tracked-run.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await runtime?.shutdown();
  runtime = undefined;
});

/** A runtime over a tracked run. Run functions are called a microtask after their run starts: await `nextMacrotask()` before settling one. */
function setup(options: { maxConcurrentChildren?: number } = {}) {
  const control = trackedRun();
  const created = createRuntime({ run: control.run, ...options });
  runtime = created;
  return { runtime: created, control };
}

/** A promise with its settlement observable synchronously. */
function track(promise: Promise<WaitResult>) {
  const state: { result?: WaitResult; error?: unknown } = {};
  promise.then(
    (result) => (state.result = result),
    (error: unknown) => (state.error = error),
  );
  return state;
}

describe('wait', () => {
  it('resolves in the microtask cascade of the run ending, before any macrotask scheduled with it', async () => {
    const { runtime, control } = setup();
    const handle = runtime.spawn({ message: 'task' });
    const waited = track(runtime.wait(handle.id, { timeoutMs: 60_000 }));
    await nextMacrotask();
    expect(waited.result).toBeUndefined();
    let settledBeforeImmediate: boolean | undefined;
    control.runs[0]!.resolve('output');
    setImmediate(() => (settledBeforeImmediate = waited.result !== undefined));
    await nextMacrotask();
    expect(settledBeforeImmediate).toBe(true);
    expect(waited.result).toMatchObject({ timedOut: false, pending: [] });
    expect(waited.result?.completed.map((snapshot) => [snapshot.status, snapshot.lastOutput])).toEqual([['completed', 'output']]);
  });

  it('creates no timer but the timeout: no interval, one setTimeout per pending wait, cleared when it resolves', async () => {
    const { runtime, control } = setup();
    const first = runtime.spawn({ message: 'one' });
    const second = runtime.spawn({ message: 'two' });
    await nextMacrotask();
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearTimeoutSpy = vi.spyOn(globalThis, 'clearTimeout');
    const waits = [runtime.wait(first.id, { timeoutMs: 60_000 }), runtime.wait([first.id, second.id], { timeoutMs: 60_000 })];
    expect(setTimeoutSpy).toHaveBeenCalledTimes(2);
    expect(setTimeoutSpy.mock.calls.map((call) => call[1])).toEqual([60_000, 60_000]);
    const timers = setTimeoutSpy.mock.results.map((result) => result.value as unknown);
    control.runs[0]!.resolve('a');
    control.runs[1]!.resolve('b');
    await Promise.all(waits);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(2);
    expect(setIntervalSpy).not.toHaveBeenCalled();
    for (const timer of timers) expect(clearTimeoutSpy).toHaveBeenCalledWith(timer);
    // A wait on targets that are not running resolves at once, without a timer.
    const immediate = await runtime.wait([first.id, second.id], { timeoutMs: 60_000 });
    expect(immediate.completed.map((snapshot) => snapshot.status)).toEqual(['completed', 'completed']);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(2);
  });

  it('returns the pending targets with timedOut at the timeout, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { runtime } = setup();
    const slow = runtime.spawn({ message: 'slow' });
    const idle = runtime.spawn();
    const waited = track(runtime.wait([slow.id, idle.id], { timeoutMs: 5_000 }));
    vi.advanceTimersByTime(4_999);
    await nextMacrotask();
    expect(waited.result).toBeUndefined();
    vi.advanceTimersByTime(1);
    await nextMacrotask();
    expect(waited.result?.timedOut).toBe(true);
    expect(waited.result?.pending.map((snapshot) => [snapshot.id, snapshot.status])).toEqual([[slow.id, 'running']]);
    expect(waited.result?.completed.map((snapshot) => [snapshot.id, snapshot.status])).toEqual([[idle.id, 'idle']]);
  });

  it('rejects an unknown id with UnknownHandleError, alone or among known ones', async () => {
    const { runtime } = setup();
    const handle = runtime.spawn({ message: 'task' });
    await expect(runtime.wait('nope')).rejects.toBeInstanceOf(UnknownHandleError);
    await expect(runtime.wait([handle.id, 'nope'])).rejects.toThrow(/nope/);
  });

  it('waits for every target when given several', async () => {
    const { runtime, control } = setup();
    const first = runtime.spawn({ message: 'one' });
    const second = runtime.spawn({ message: 'two' });
    const waited = track(runtime.wait([first.id, second.id], { timeoutMs: 60_000 }));
    await nextMacrotask();
    control.runs[0]!.resolve('a');
    await nextMacrotask();
    expect(runtime.get(first.id).status).toBe('completed');
    expect(waited.result).toBeUndefined();
    control.runs[1]!.reject(new Error('b failed'));
    await nextMacrotask();
    expect(waited.result?.timedOut).toBe(false);
    expect(waited.result?.completed.map((snapshot) => snapshot.status)).toEqual(['completed', 'error']);
  });

  it('keeps waiting on a handle that finishes one input and starts its next queued one', async () => {
    const { runtime, control } = setup();
    const handle = runtime.spawn({ message: 'first' });
    runtime.send(handle.id, 'second');
    const waited = track(runtime.wait(handle.id, { timeoutMs: 60_000 }));
    await nextMacrotask();
    control.runs[0]!.resolve('one');
    await nextMacrotask();
    expect(control.runs.map((run) => run.input)).toEqual(['first', 'second']);
    expect(waited.result).toBeUndefined();
    control.runs[1]!.resolve('two');
    await nextMacrotask();
    expect(waited.result?.completed.map((snapshot) => snapshot.lastOutput)).toEqual(['two']);
  });

  it('counts a handle waiting for a slot as pending, and an interrupted one as done', async () => {
    const { runtime } = setup({ maxConcurrentChildren: 1 });
    runtime.spawn({ message: 'busy' });
    const waiting = runtime.spawn({ message: 'waiting' });
    const waited = track(runtime.wait(waiting.id, { timeoutMs: 60_000 }));
    await nextMacrotask();
    expect(waited.result).toBeUndefined();
    runtime.interrupt(waiting.id);
    await nextMacrotask();
    expect(waited.result?.completed.map((snapshot) => snapshot.status)).toEqual(['interrupted']);
  });

  it('ends every wait when the runtime shuts down', async () => {
    const { runtime } = setup();
    const handle = runtime.spawn({ message: 'task' });
    const waited = track(runtime.wait(handle.id, { timeoutMs: 60_000 }));
    await runtime.shutdown();
    await nextMacrotask();
    expect(waited.result?.timedOut).toBe(false);
    expect(waited.result?.completed.map((snapshot) => snapshot.status)).toEqual(['closed']);
  });
});
