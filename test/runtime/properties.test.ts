import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DepthLimitError, HandleClosedError, HandleStateError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime, SubagentStartEvent, SubagentStopEvent } from '../../src/agent/create-runtime.js';
import type { HandleSnapshot } from '../../src/types.js';
import { nextMacrotask, trackedRun } from '../support/tracked-run.js';

type Operation =
  | { kind: 'spawn'; parent: number | null; message: boolean }
  | { kind: 'send'; target: number; interrupt: boolean }
  | { kind: 'interrupt' | 'cancel' | 'close' | 'resume'; target: number }
  | { kind: 'complete' | 'fail'; run: number };

interface Config {
  maxSpawnDepth: number;
  maxConcurrentChildren: number;
  maxConcurrentRuns: number | null;
}

const configArbitrary: fc.Arbitrary<Config> = fc.record({
  maxSpawnDepth: fc.constantFrom(1, 2),
  maxConcurrentChildren: fc.integer({ min: 1, max: 3 }),
  maxConcurrentRuns: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
});

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('spawn' as const), parent: fc.option(fc.nat(20), { nil: null }), message: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), target: fc.nat(20), interrupt: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('interrupt' as const, 'cancel' as const, 'close' as const, 'resume' as const), target: fc.nat(20) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constantFrom('complete' as const, 'fail' as const), run: fc.nat(20) }) },
);

const ROOT = '@root';
const isWorking = (handle: HandleSnapshot) => handle.status === 'running' && !handle.waitingForSlot;

/** Counts by key. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** How often the interesting situations came up, over all runs: a vacuous generator would show here. */
const seen = {
  waitingForSlot: 0,
  depthRefused: 0,
  closedRefused: 0,
  interruptingSends: 0,
  returned: 0,
  completed: 0,
  failed: 0,
  aborted: 0,
  abortedBeforeCalled: 0,
};

/** Runs one random sequence of operations against a fresh runtime, checking the invariants after every step. */
async function check(config: Config, operations: Operation[]): Promise<void> {
  const control = trackedRun();
  const starts: SubagentStartEvent[] = [];
  const ends: SubagentStopEvent[] = [];
  const inputEnds: string[] = [];
  const startHooks: string[] = [];
  const stopHooks: string[] = [];
  const listenerErrors: unknown[] = [];
  const runtime: Runtime = createRuntime({
    run: control.run,
    ...config,
    onSubagentStart: (event) => startHooks.push(`${event.handleId}#${event.runId}`),
    onSubagentStop: (event) => stopHooks.push(`${event.handleId}#${event.runId}`),
    onListenerError: (error) => listenerErrors.push(error),
  });
  runtime.subscribe((event) => {
    if (event.type === 'run-start') starts.push(event);
    if (event.type === 'run-end') ends.push(event);
    if (event.type === 'input-end') inputEnds.push(event.input);
  });
  const ids: string[] = [];
  const accepted: string[] = [];
  const returned: string[] = [];
  let inputCount = 0;
  const nextMessage = () => `input-${(inputCount += 1)}`;
  const pick = (index: number) => ids[index % ids.length]!;

  const invariants = () => {
    const handles = runtime.list();
    const active = control.active();
    const activeByHandle = countBy(active, (run) => run.handleId);
    const startsByHandle = countBy(starts, (event) => event.handleId);
    const endsByHandle = countBy(ends, (event) => event.handleId);
    const working = handles.filter(isWorking);
    const workingByParent = countBy(working, (handle) => handle.parentId ?? ROOT);
    for (const handle of handles) {
      const inFlight = isWorking(handle) ? 1 : 0;
      // Never two runs at once in a handle; exactly one while working.
      expect(activeByHandle.get(handle.id) ?? 0, `active runs of ${handle.id}`).toBe(inFlight);
      expect((startsByHandle.get(handle.id) ?? 0) - (endsByHandle.get(handle.id) ?? 0), `run-start minus run-end of ${handle.id}`).toBe(inFlight);
      expect(handle.depth).toBeLessThanOrEqual(config.maxSpawnDepth);
      // Work conserving: a handle waits for a slot only while its parent's or the global cap is reached.
      if (handle.status === 'running' && handle.waitingForSlot) {
        const parentFull = (workingByParent.get(handle.parentId ?? ROOT) ?? 0) >= config.maxConcurrentChildren;
        const globalFull = config.maxConcurrentRuns !== null && working.length >= config.maxConcurrentRuns;
        expect(parentFull || globalFull, `${handle.id} waits for a slot with room to run`).toBe(true);
      }
    }
    for (const [parent, count] of workingByParent) {
      expect(count, `running children of ${parent}`).toBeLessThanOrEqual(config.maxConcurrentChildren);
    }
    if (config.maxConcurrentRuns !== null) expect(working.length).toBeLessThanOrEqual(config.maxConcurrentRuns);
    expect(startHooks).toEqual(starts.map((event) => `${event.handleId}#${event.runId}`));
    expect(stopHooks).toEqual(ends.map((event) => `${event.handleId}#${event.runId}`));
  };

  try {
    for (const operation of operations) {
      switch (operation.kind) {
        case 'spawn': {
          const parentId = operation.parent === null || ids.length === 0 ? null : pick(operation.parent);
          const parentDepth = parentId === null ? 0 : runtime.get(parentId).depth;
          const message = operation.message ? nextMessage() : undefined;
          if (parentDepth >= config.maxSpawnDepth) {
            expect(() => runtime.spawn({ parentId, ...(message ? { message } : {}) })).toThrow(DepthLimitError);
            seen.depthRefused += 1;
            break;
          }
          const handle = runtime.spawn({ parentId, ...(message ? { message } : {}) });
          ids.push(handle.id);
          if (message) accepted.push(message);
          break;
        }
        case 'send': {
          if (ids.length === 0) break;
          const id = pick(operation.target);
          const message = nextMessage();
          if (runtime.get(id).status === 'closed') {
            expect(() => runtime.send(id, message, { interrupt: operation.interrupt })).toThrow(HandleClosedError);
            seen.closedRefused += 1;
            break;
          }
          if (operation.interrupt && isWorking(runtime.get(id))) seen.interruptingSends += 1;
          runtime.send(id, message, { interrupt: operation.interrupt });
          accepted.push(message);
          break;
        }
        case 'interrupt':
          if (ids.length > 0) runtime.interrupt(pick(operation.target));
          break;
        case 'resume': {
          if (ids.length === 0) break;
          const id = pick(operation.target);
          const status = runtime.get(id).status;
          // The chart decides: only a closed or interrupted handle resumes; anything else is refused with a typed error.
          if (status === 'closed' || status === 'interrupted') runtime.resume(id);
          else expect(() => runtime.resume(id)).toThrow(HandleStateError);
          break;
        }
        case 'cancel': {
          if (ids.length === 0) break;
          const result = runtime.cancel(pick(operation.target));
          returned.push(...result.discarded, ...result.descendants.flatMap((descendant) => descendant.discarded));
          break;
        }
        case 'close': {
          if (ids.length === 0) break;
          const result = runtime.close(pick(operation.target));
          expect(result.handle.status).toBe('closed');
          returned.push(...result.unprocessed, ...result.descendants.flatMap((descendant) => descendant.unprocessed));
          break;
        }
        case 'complete':
        case 'fail': {
          const active = control.active();
          const run = active[operation.run % Math.max(active.length, 1)];
          if (!run) break;
          if (operation.kind === 'complete') run.resolve(`output of ${run.input}`);
          else run.reject(new Error(`failed: ${run.input}`));
          seen[operation.kind === 'complete' ? 'completed' : 'failed'] += 1;
          break;
        }
      }
      // Settlements (and aborted runs rejecting) take effect in microtasks, run functions are called a microtask after
      // their run starts, and events and hooks are delivered in a microtask: let them all land.
      await nextMacrotask();
      invariants();
      seen.waitingForSlot += runtime.list().filter((handle) => handle.waitingForSlot).length;
    }

    // Close everything, in one tick: closing a handle can hand its slot to a waiting one, whose run then starts and is
    // closed before its run function is called. Every accepted input was then either started exactly once (run-start;
    // its run function called at most once) or handed back exactly once.
    for (const handle of runtime.list({ parentId: null })) {
      const result = runtime.close(handle.id);
      returned.push(...result.unprocessed, ...result.descendants.flatMap((descendant) => descendant.unprocessed));
    }
    await nextMacrotask();
    invariants();
    expect(runtime.list().every((handle) => handle.status === 'closed')).toBe(true);
    expect(control.active()).toEqual([]);
    expect(starts.length).toBe(ends.length);
    expect(new Set(ends.map((event) => `${event.handleId}#${event.runId}`)).size).toBe(ends.length);
    expect(new Set(starts.map((event) => `${event.handleId}#${event.runId}`)).size).toBe(starts.length);
    const started = countBy(starts, (event) => event.input);
    const handedBack = countBy(returned, (message) => message);
    for (const message of accepted) {
      expect((started.get(message) ?? 0) + (handedBack.get(message) ?? 0), `${message}: starts + returns`).toBe(1);
    }
    // The chart's own account agrees: every accepted input ended exactly once (processed or handed back).
    const inputEndCounts = countBy(inputEnds, (message) => message);
    for (const message of accepted) expect(inputEndCounts.get(message) ?? 0, `${message}: input-end events`).toBe(1);
    expect(inputEnds.length).toBe(accepted.length);
    expect([...handedBack.keys()].every((message) => accepted.includes(message))).toBe(true);
    // Each run function call belongs to a reported start (same handle, run id and input), at most once; a started run
    // whose function was never called was stopped before the call: it ended interrupted or cancelled, never otherwise.
    const startOf = new Map(starts.map((event) => [`${event.handleId}#${event.runId}`, event]));
    expect(new Set(control.runs.map((run) => `${run.handleId}#${run.runId}`)).size).toBe(control.runs.length);
    for (const run of control.runs) expect(startOf.get(`${run.handleId}#${run.runId}`)?.input, `start of ${run.handleId}#${run.runId}`).toBe(run.input);
    const called = new Set(control.runs.map((run) => `${run.handleId}#${run.runId}`));
    const neverCalled = ends.filter((event) => !called.has(`${event.handleId}#${event.runId}`));
    expect(control.runs.length + neverCalled.length).toBe(starts.length);
    for (const event of neverCalled) expect(['interrupted', 'cancelled'], `outcome of ${event.handleId}#${event.runId}`).toContain(event.outcome);
    expect(listenerErrors).toEqual([]);
    seen.returned += returned.length;
    seen.aborted += control.runs.filter((run) => run.signal.aborted).length;
    seen.abortedBeforeCalled += neverCalled.length;
  } finally {
    await runtime.shutdown();
  }
}

describe('runtime invariants under random operation sequences (fast-check)', () => {
  it('keeps caps, depth, one run per handle, one end per run, and returns or runs every input (1,000 runs)', async () => {
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(configArbitrary, fc.array(operationArbitrary, { minLength: 1, maxLength: 60, size: 'max' }), async (config, operations) => {
        steps += operations.length;
        await check(config, operations);
      }),
      { numRuns: 1000 },
    );
    console.log(`runtime properties: 1000 runs, ${steps} operations`, seen);
    for (const [situation, count] of Object.entries(seen)) expect(count, situation).toBeGreaterThan(0);
    // About 30k operations with a macrotask each: an explicit budget for a loaded 2-core machine.
  }, 240_000);
});
