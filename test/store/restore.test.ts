import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { AgentRun, Runtime } from '../../src/agent/create-runtime.js';
import { memoryStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { HANDLES } from '../../src/runtime/durable-handles.js';
import type { StoredHandle } from '../../src/runtime/durable-handles.js';

/** A run that answers inputs starting with `ok` and holds every other one until it is stopped. */
const holdingRun: AgentRun = (message, { signal }) =>
  message.startsWith('ok') ? Promise.resolve({ output: `done: ${message}` }) : new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))));

const stored = (store: Store, id: string) => store.load().get(HANDLES)?.get(id) as StoredHandle | undefined;

describe('a runtime on a store', () => {
  it('writes every change of a handle and restores it: a run in flight ends interrupted, "lost on restart", its queue kept', async () => {
    const store = memoryStore();
    const first: Runtime = createRuntime({ run: holdingRun, store });
    first.spawn({ name: 'worker' });
    first.send('worker', 'ok one');
    await first.wait('worker');
    first.send('worker', 'hold two');
    first.send('worker', 'ok three');
    expect(stored(store, 'worker')).toMatchObject({ state: { running: { working: 'active' } }, context: { inputs: { queue: [{ message: 'ok three' }] }, results: { runsEnded: 1 } } });
    // The process "dies": nothing more is written, nothing handed back.
    expect(await first.shutdown({ keep: true })).toEqual({ unprocessed: [] });

    const events: string[] = [];
    const second = createRuntime({ run: holdingRun, store, onSubagentStop: (event) => events.push(`${event.outcome}: ${event.error ?? ''}`) });
    const worker = second.get('worker');
    expect(worker).toMatchObject({ status: 'interrupted', lastOutcome: 'interrupted', error: 'lost on restart', queueSize: 1, runs: 2, lastOutput: 'done: ok one' });
    // Its conversation survived: the next run reads it.
    expect(second.resume('worker').status).toBe('running');
    await second.wait('worker');
    expect(second.get('worker')).toMatchObject({ status: 'completed', lastOutput: 'done: ok three', runs: 3, queueSize: 0 });
    // Each run ends once: the lost one with its reason, then the queued one.
    expect(events).toEqual(['interrupted: lost on restart', 'completed: ']);
    // Nothing runs twice: the held run was never started again.
    await second.shutdown();
    expect(stored(store, 'worker')).toMatchObject({ state: 'closed' });
  });

  it("a run lost on restart keeps what it recorded and spent before the crash, like any interrupted run", async () => {
    const store = memoryStore();
    // Records its input and a turn, reports spend, then holds until stopped.
    const recordingRun: AgentRun = (message, { signal, record, reportUsage, conversation }) => {
      if (message.startsWith('ok')) return Promise.resolve({ output: `seen ${conversation.map((turn) => turn.content).join('|')}` });
      record({ role: 'user', content: message });
      record({ role: 'assistant', content: 'half way' });
      reportUsage({ inputTokens: 30, outputTokens: 7 });
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))));
    };
    const first: Runtime = createRuntime({ run: recordingRun, store });
    first.spawn({ name: 'worker', message: 'hold one' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await first.shutdown({ keep: true })).toEqual({ unprocessed: [] });

    const second = createRuntime({ run: recordingRun, store });
    expect(second.get('worker')).toMatchObject({ status: 'interrupted', error: 'lost on restart', usage: { inputTokens: 30, outputTokens: 7 } });
    second.send('worker', 'ok next');
    await second.wait('worker');
    expect(second.get('worker').lastOutput).toBe('seen hold one|half way');
    await second.shutdown();
  });

  it("with the restore policy 'rerun', a lost input runs again as a new input", async () => {
    const store = memoryStore();
    const first = createRuntime({ run: holdingRun, store });
    first.spawn({ name: 'worker', message: 'hold' });
    await first.shutdown({ keep: true });
    const seen: string[] = [];
    const second = createRuntime({ run: (input, context) => (seen.push(input), holdingRun(input, context)), store, restorePolicy: 'rerun' });
    expect(second.get('worker')).toMatchObject({ status: 'running', lastOutcome: 'interrupted', error: null });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['hold']);
    const { unprocessed } = await second.shutdown();
    expect(unprocessed).toEqual([]);
  });

  it('a handle waiting for a slot asks for one again, in its order', async () => {
    const store = memoryStore();
    const first = createRuntime({ run: holdingRun, store, maxConcurrentChildren: 1 });
    first.spawn({ name: 'a', message: 'hold a' });
    first.spawn({ name: 'b', message: 'ok b' });
    expect(first.get('b').waitingForSlot).toBe(true);
    await first.shutdown({ keep: true });
    const second = createRuntime({ run: holdingRun, store, maxConcurrentChildren: 1 });
    expect(second.get('a')).toMatchObject({ status: 'interrupted', error: 'lost on restart' });
    await second.wait('b');
    expect(second.get('b')).toMatchObject({ status: 'completed', lastOutput: 'done: ok b' });
    await second.shutdown();
  });

  it('restores a delegation: a child lost with the process gives its delegation one result saying so', async () => {
    const store = memoryStore();
    const first = createRuntime({ run: holdingRun, store });
    const { delegationId } = first.delegate({ tasks: [{ goal: 'ok quick' }, { goal: 'hold slow' }], background: true });
    await new Promise((resolve) => setImmediate(resolve));
    await first.shutdown({ keep: true });
    const second = createRuntime({ run: holdingRun, store });
    const outcome = await second.delegation(delegationId);
    expect(outcome.results.map((result) => [result.status, result.summary])).toEqual([
      ['completed', 'done: ok quick'],
      ['interrupted', 'lost on restart'],
    ]);
    await second.shutdown();
  });
});
