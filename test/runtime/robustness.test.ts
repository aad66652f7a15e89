import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BackgroundLimitError, BadArgumentError, UnknownHandleError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import { handleSystemId } from '../../src/machines/supervisor.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { controllableRun } from '../support/controllable-run.js';
import { nextMacrotask } from '../support/tracked-run.js';
import { closeAfterEach } from '../support/cleanup.js';

let runtime: Runtime | undefined;
let server: FakeServer | undefined;
closeAfterEach(() => [runtime, server]);

describe('delegations whose children never start', () => {
  it('settle when a child still waiting for a slot is cancelled, and free the background cap', async () => {
    const control = controllableRun();
    const created = createRuntime({ run: control.run, maxConcurrentChildren: 1, maxBackground: 1 });
    runtime = created;
    const background = created.delegate({ tasks: [{ goal: 'first' }, { goal: 'second' }], background: true });
    const [, waiting] = background.handleIds;
    expect(created.get(waiting!).waitingForSlot).toBe(true);
    created.cancel(waiting!);
    await nextMacrotask();
    control.runs[0]!.resolve('first done');
    const outcome = await background.result;
    expect(outcome.results.map((result) => [result.status, result.exitReason])).toEqual([
      ['completed', 'completed'],
      ['cancelled', 'interrupted'],
    ]);
    expect(outcome.results[1]?.error).toMatch(/cancelled before it started/);
    expect(created.activeBackground).toBe(0);
    expect(() => created.delegate({ goal: 'next', background: true })).not.toThrow(BackgroundLimitError);
  });

  it('settle on shutdown', async () => {
    const control = controllableRun();
    const created = createRuntime({ run: control.run, maxConcurrentChildren: 1 });
    runtime = created;
    const pending = created.delegate({ tasks: [{ goal: 'a' }, { goal: 'b' }] }).result;
    await created.shutdown();
    const outcome = await pending;
    expect(outcome.results.map((result) => result.status)).toEqual(['cancelled', 'cancelled']);
  });
});

describe('spawn refusals', () => {
  it('leave the existing handle of that name working', async () => {
    server = await startFakeServer({ script: () => reply.text('still here') });
    const created = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake' });
    runtime = created;
    created.spawn({ name: 'worker' });
    expect(() => created.spawn({ name: 'worker' })).toThrow(BadArgumentError);
    created.send('worker', 'hello');
    const { completed } = await created.wait('worker', { timeoutMs: 5000 });
    expect(completed[0]).toMatchObject({ status: 'completed', lastOutput: 'still here' });
  });

  it('treat names like `constructor` as plain names', () => {
    runtime = createRuntime({ run: async () => 'ok' });
    expect(runtime.spawn({ name: 'constructor' }).id).toBe('constructor');
    expect(runtime.spawn({ name: 'toString', message: 'go' }).status).toBe('running');
  });
});

describe('events', () => {
  it('keep flowing when the listener-error reporter itself throws', async () => {
    const seen: string[] = [];
    runtime = createRuntime({
      run: async () => 'ok',
      onListenerError: () => {
        throw new Error('reporter broke');
      },
    });
    runtime.subscribe(() => {
      throw new Error('listener broke');
    });
    runtime.subscribe((event) => seen.push(event.type));
    const handle = runtime.spawn({ message: 'one' });
    await runtime.wait(handle.id);
    await nextMacrotask();
    runtime.send(handle.id, 'two');
    await runtime.wait(handle.id);
    await nextMacrotask();
    expect(seen.filter((type) => type === 'run-end')).toHaveLength(2);
  });

  it('end an iterator opened after shutdown', async () => {
    runtime = createRuntime({ run: async () => 'ok' });
    await runtime.shutdown();
    const iterator = runtime.events();
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
  });
});

describe('bad input at the public API', () => {
  it('gets BadArgumentError naming what was expected', async () => {
    expect(() => createRuntime(null as never)).toThrow(/Expected `options` to be an object/);
    expect(() => createRuntime({ run: async () => 'x', tools: 'x' as never })).toThrow(/Expected `tools` to be an array/);
    expect(() => createRuntime({ run: async () => 'x', tools: [{}] as never })).toThrow(/Expected `tools\[0\]` to be a tool/);
    expect(() => createRuntime({ run: async () => 'x', blockedTools: 'x' as never })).toThrow(BadArgumentError);
    expect(() => createRuntime({ run: async () => 'x', onSubagentStop: 5 as never })).toThrow(/onSubagentStop/);
    const core = createRuntime({ run: async () => undefined as never });
    runtime = core;
    expect(() => core.spawn(null as never)).toThrow(/Expected `options` to be an object/);
    expect(() => core.spawn({ role: 'boss' as never })).toThrow(/Expected `role`/);
    const handle = core.spawn();
    expect(() => core.send(handle.id, 'x', null as never)).toThrow(/Expected `options` to be an object/);
    await expect(core.wait(handle.id, null as never)).rejects.toThrow(BadArgumentError);
    expect(() => core.list(null as never)).toThrow(BadArgumentError);
    expect(() => core.setLimits({ maxConcurrentRuns: undefined })).not.toThrow();
    // A run that returns nothing usable ends in `error` with a message saying what was expected.
    core.send(handle.id, 'go');
    const { completed } = await core.wait(handle.id);
    expect(completed[0]?.status).toBe('error');
    expect(completed[0]?.error).toMatch(/Expected `the run result` to be a string or an object/);
  });
});

describe('forget', () => {
  it('frees a closed subtree: actors stopped, ids unknown, names reusable', async () => {
    const core = createRuntime({ run: async (input) => `done ${input}`, maxSpawnDepth: 2 });
    runtime = core;
    core.spawn({ name: 'parent', message: 'p' });
    core.spawn({ name: 'child', parentId: 'parent', message: 'c' });
    core.spawn({ name: 'other' });
    await core.wait(['parent', 'child']);
    expect(() => core.forget('parent')).toThrow(/is completed; close\(`parent`\) first/);
    expect(core.list().map((handle) => handle.id)).toEqual(['parent', 'child', 'other']);
    core.close('parent');
    expect(core.forget('parent').sort()).toEqual(['child', 'parent']);
    expect(core.list().map((handle) => handle.id)).toEqual(['other']);
    expect(() => core.get('child')).toThrow(UnknownHandleError);
    // The forgotten handles' actors are stopped and unregistered; the other one is still there.
    const keys = ['0', '1', '2'].filter((key) => core.actor.system.get(handleSystemId(key)) !== undefined);
    expect(keys).toHaveLength(1);
    expect([...core.actor.getSnapshot().context.book.ids()]).toEqual(['other']);
    const reused = core.spawn({ name: 'parent', message: 'again' });
    await core.wait(reused.id);
    expect(core.get('parent').lastOutput).toBe('done again');
  });
});
