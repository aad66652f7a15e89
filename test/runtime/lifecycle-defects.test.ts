/**
 * Regressions for the defects found where the runtime kept its own copy of
 * the lifecycle: each test drives the public API (through real HTTP where a
 * model is involved) and checks that what is reported is what the chart did.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BadArgumentError, HandleStateError, RuntimeShutDownError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { z } from 'zod';
import { controllableRun } from '../support/controllable-run.js';
import { nextMacrotask } from '../support/tracked-run.js';
import { closeAfterEach } from '../support/cleanup.js';

let runtime: SubagentsRuntime | undefined;
let server: FakeServer | undefined;
closeAfterEach(() => [runtime, server]);

const clientFor = (fake: FakeServer, apiKey = 'test-key') => new OpenAI({ baseURL: fake.url, apiKey, maxRetries: 0, logLevel: 'off' });

describe('a stream that does not finish is never a completion', () => {
  it('reports a stream cut mid-way as an error, with the fragment as partialOutput only', async () => {
    server = await startFakeServer({ script: [reply.cut(3, { content: 'The answer is forty-two, and the reason is' })] });
    runtime = createRuntime({ client: clientFor(server), model: 'fake' });
    const { results } = await runtime.delegate({ goal: 'Answer' }).result;
    const result = results[0]!;
    expect(result.status).toBe('error');
    expect(result.partialOutput).toBeTruthy();
    expect('The answer is forty-two, and the reason is').toContain(result.partialOutput);
    expect(result.summary).not.toBe(result.partialOutput);
    expect(runtime.get(result.handleId)).toMatchObject({ status: 'error', lastOutput: null, lastOutcome: 'error' });
    // The kind of failure is data, not only text.
    expect(result.errorCode).toBe('model_output');
    expect(result.error).toMatch(/^stream_cut: /);
  });

  it('ends a run aborted mid-stream by childTimeoutMs as `timeout`, at the limit, with its partial text', async () => {
    server = await startFakeServer({ script: [reply.text('slowly '.repeat(200), { chunkDelayMs: 20, chunkSize: 7 })] });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', childTimeoutMs: 1500 });
    const { results } = await runtime.delegate({ goal: 'Write slowly' }).result;
    expect(results[0]).toMatchObject({ status: 'timeout', exitReason: 'timeout' });
    expect(results[0]!.partialOutput).toMatch(/^slowly/);
    expect(results[0]!.error).toMatch(/childTimeoutMs \(1500 ms\)/);
  });

  it('resolves runAgent with outcome `interrupted` when its signal fires mid-stream', async () => {
    server = await startFakeServer({ script: [reply.text('word '.repeat(500), { chunkDelayMs: 10, chunkSize: 5 })] });
    runtime = createRuntime({ client: clientFor(server), model: 'fake' });
    const controller = new AbortController();
    const answer = runtime.runAgent('Talk', { signal: controller.signal, onTextDelta: () => controller.abort() });
    await expect(answer).resolves.toMatchObject({ outcome: 'interrupted', text: '' });
    expect((await answer).partialOutput).toMatch(/^word/);
  });
});

describe('limits end the run whatever the work does', () => {
  it('ends a run whose tool ignores its signal at childTimeoutMs, and discards the late settlement', async () => {
    let releaseTool: (value: string) => void = () => {};
    const stubborn = defineTool({
      name: 'stubborn',
      toolset: 'test',
      description: 'Never looks at its signal.',
      parameters: z.object({}),
      execute: () => new Promise<string>((resolve) => (releaseTool = resolve)),
    });
    server = await startFakeServer({ script: [reply.toolCall('stubborn', {}), reply.text('after the tool')] });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', tools: [stubborn], childTimeoutMs: 250 });
    const { results } = await runtime.delegate({ goal: 'Use the stubborn tool' }).result;
    expect(results[0]).toMatchObject({ status: 'timeout' });
    releaseTool('late');
    await nextMacrotask();
    await nextMacrotask();
    expect(runtime.get(results[0]!.handleId)).toMatchObject({ status: 'error', lastOutcome: 'timeout', runs: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('ends a run at childTimeoutMs even when the endpoint says Retry-After: 15', async () => {
    server = await startFakeServer({ script: () => reply.status(429, { headers: { 'retry-after': '15' } }) });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', childTimeoutMs: 400 });
    const started = performance.now();
    const { results } = await runtime.delegate({ goal: 'Be rate limited' }).result;
    expect(results[0]).toMatchObject({ status: 'timeout' });
    // Generous for a loaded machine; before the fix this took 15 s.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('ends a run that reports no progress at staleTimeoutMs', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run, staleTimeoutMs: 200 });
    const handle = runtime.spawn({ message: 'hang' });
    const { completed } = await runtime.wait(handle.id, { timeoutMs: 10_000 });
    expect(completed[0]).toMatchObject({ status: 'error', lastOutcome: 'timeout' });
    expect(completed[0]!.error).toMatch(/staleTimeoutMs/);
  });
});

describe('what a delegation reports is what the chart did', () => {
  it('a batch task interrupted while waiting for a slot ends interrupted and leaves its queue', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run, maxConcurrentChildren: 1 });
    const background = runtime.delegate({ tasks: [{ goal: 'first' }, { goal: 'second' }], background: true });
    const [, second] = background.handleIds;
    expect(runtime.get(second!).waitingForSlot).toBe(true);
    runtime.interrupt(second!);
    await nextMacrotask();
    control.runs[0]!.resolve('first done');
    const outcome = await background.result;
    expect(outcome.results.map((result) => result.status)).toEqual(['completed', 'interrupted']);
    expect(runtime.get(second!)).toMatchObject({ status: 'interrupted', queueSize: 0 });
    // Nothing is left to run: resuming starts no run whose output would go nowhere.
    runtime.resume(second!);
    await nextMacrotask();
    expect(control.runs).toHaveLength(1);
    expect(runtime.get(second!).status).toBe('idle');
  });

  it('a listener on a delegated child does not keep the delegation pending', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run, maxBackground: 1 });
    const background = runtime.delegate({ goal: 'watched', background: true });
    const seen: string[] = [];
    runtime.subscribe((event) => {
      if ('handleId' in event && event.handleId === background.handleIds[0]) seen.push(event.type);
    });
    await nextMacrotask();
    control.runs[0]!.resolve('done');
    await expect(background.result).resolves.toMatchObject({ results: [{ status: 'completed', summary: 'done' }] });
    expect(seen).toContain('run-end');
    expect(runtime.activeBackground).toBe(0);
  });
});

describe('one bad value cannot kill the runtime', () => {
  it('a run rejecting with a circular object or a BigInt ends in error; later spawns work', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const thrown: unknown[] = [circular, 10n, { toString: () => { throw new Error('no'); } }];
    runtime = createRuntime({
      run: async (input) => {
        if (input === 'ok') return 'fine';
        throw thrown[Number(input)];
      },
    });
    for (const index of [0, 1, 2]) {
      const handle = runtime.spawn({ message: String(index) });
      const { completed } = await runtime.wait(handle.id, { timeoutMs: 5000 });
      expect(completed[0]).toMatchObject({ status: 'error', lastOutcome: 'error' });
      expect(typeof completed[0]!.error).toBe('string');
    }
    expect(runtime.actor.getSnapshot().status).toBe('active');
    const healthy = runtime.spawn({ message: 'ok' });
    const { completed } = await runtime.wait(healthy.id, { timeoutMs: 5000 });
    expect(completed[0]).toMatchObject({ status: 'completed', lastOutput: 'fine' });
  });
});

describe('nothing accepted is lost', () => {
  it('shutdown() hands back every input still queued or waiting for a slot', async () => {
    const control = controllableRun();
    runtime = createRuntime({ run: control.run, maxConcurrentChildren: 1 });
    const busy = runtime.spawn({ name: 'busy', message: 'running' });
    runtime.send(busy.id, 'queued 1');
    runtime.send(busy.id, 'queued 2');
    runtime.spawn({ name: 'waiting', message: 'waits for a slot' });
    await nextMacrotask();
    const { unprocessed } = await runtime.shutdown();
    expect(unprocessed).toEqual(
      expect.arrayContaining([
        { handleId: 'busy', inputs: ['queued 1', 'queued 2'] },
        { handleId: 'waiting', inputs: ['waits for a slot'] },
      ]),
    );
    expect(unprocessed).toHaveLength(2);
  });

  it('keeps a valid conversation after a failed run: complete turns kept, missing tool results filled in', async () => {
    const lookup = defineTool({ name: 'lookup', toolset: 'test', description: 'Looks up.', parameters: z.object({}), execute: () => 'found' });
    server = await startFakeServer({
      script: [reply.toolCalls([{ name: 'lookup', arguments: {} }]), reply.status(500), reply.text('second answer')],
    });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', tools: [lookup], maxRetries: 0 });
    const handle = runtime.spawn({ message: 'first input' });
    await runtime.wait(handle.id, { timeoutMs: 5000 });
    expect(runtime.get(handle.id)).toMatchObject({ status: 'error', lastOutcome: 'error' });
    runtime.send(handle.id, 'second input');
    const { completed } = await runtime.wait(handle.id, { timeoutMs: 5000 });
    expect(completed[0]).toMatchObject({ status: 'completed', lastOutput: 'second answer' });
    // The third request carries the failed run's input, its tool call and the tool's result.
    const messages = server.requests[2]!.body.messages;
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
  });
});

describe('secrets stay out of errors and events', () => {
  it('a client beside a custom run is refused naming the option, without carrying the client', () => {
    const client = new OpenAI({ apiKey: 'sk-secret-key-123', baseURL: 'http://127.0.0.1:9/v1' });
    let error: unknown;
    try {
      createRuntime({ client, run: async () => 'x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BadArgumentError);
    expect((error as BadArgumentError).argument).toBe('client');
    expect(`${JSON.stringify(error)} ${(error as Error).message}`).not.toContain('sk-secret-key-123');
  });

  it('runAgent on a custom run names what is missing', async () => {
    runtime = createRuntime({ run: async () => 'x' });
    const error = await runtime.runAgent('hi').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadArgumentError);
    expect((error as BadArgumentError).argument).toBe('run');
  });

  it('redacts a key the endpoint echoes in its 401 from results and events', async () => {
    const key = 'sk-live-abcdef-0123456789';
    server = await startFakeServer({ script: () => reply.status(401, { body: { error: { message: `Incorrect API key provided: ${key}` } } }) });
    runtime = createRuntime({ client: clientFor(server, key), model: 'fake' });
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const { results } = await runtime.delegate({ goal: 'Try' }).result;
    expect(results[0]!.status).toBe('error');
    await nextMacrotask();
    const everything = JSON.stringify({ results, events, snapshot: runtime.get(results[0]!.handleId) });
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(key);
  });
});

describe('long runs', () => {
  it('make more than 10 model calls on one run without a listener warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const tick = defineTool({ name: 'tick', toolset: 'test', description: 'Ticks.', parameters: z.object({}), execute: () => 'tock' });
      let calls = 0;
      server = await startFakeServer({ script: () => (++calls <= 12 ? reply.toolCall('tick', {}) : reply.text('done')) });
      runtime = createRuntime({ client: clientFor(server), model: 'fake', tools: [tick] });
      const { results } = await runtime.delegate({ goal: 'Tick a lot' }).result;
      expect(results[0]).toMatchObject({ status: 'completed', apiCalls: 13 });
      await nextMacrotask();
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('bad options fail at createRuntime with a typed error', () => {
  it.each([
    ['agentTypes', { agentTypes: [null] }],
    ['workspacePath', { workspacePath: 42 }],
    ['childTimeoutMs', { childTimeoutMs: -1 }],
    ['maxRunTokens', { maxRunTokens: 1.5 }],
    ['prices', { prices: { fake: { inputPerMillion: 'cheap' } } }],
  ])('%s', (name, bad) => {
    const attempt = () => createRuntime({ run: async () => 'x', ...(bad as object) });
    expect(attempt).toThrow(BadArgumentError);
    expect(attempt).toThrow(new RegExp(name));
  });

  it('refuses unknown task fields in `tasks` sent as a JSON string, as in an array', async () => {
    runtime = createRuntime({ run: async () => 'x' });
    const dispatch = createToolDispatcher(runtime, runtime.toolsOf(null), { handleId: null });
    for (const tasks of [[{ goal: 'a', colour: 'red' }], JSON.stringify([{ goal: 'a', colour: 'red' }])]) {
      const answer = JSON.parse(await dispatch('delegate_task', JSON.stringify({ tasks }))) as { ok: boolean; error?: { message: string } };
      expect(answer.ok).toBe(false);
      expect(answer.error?.message).toMatch(/colour/);
    }
    expect(runtime.list()).toEqual([]);
  });

  it('setLimits refuses what it cannot change, and a zero time limit is refused at createRuntime', () => {
    runtime = createRuntime({ run: async () => 'x' });
    expect(() => runtime!.setLimits({ childTimeoutMs: -1 } as never)).toThrow(/limits\.childTimeoutMs/);
    expect(() => createRuntime({ run: async () => 'x', childTimeoutMs: 0 })).toThrow(/>= 1/);
  });

  it('resume of a handle that is neither closed nor interrupted is refused with a typed error', () => {
    runtime = createRuntime({ run: async () => 'x' });
    const handle = runtime.spawn();
    expect(() => runtime!.resume(handle.id)).toThrow(HandleStateError);
  });
});

describe('big batches and slow readers', () => {
  it('spawns a 2,000-task batch in slices, letting the event loop turn between them', async () => {
    runtime = createRuntime({ run: async () => 'done', maxConcurrentChildren: 50 });
    // A ticker that runs once per turn of the event loop (check phase), as the slices do.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    try {
      const tasks = Array.from({ length: 2000 }, (_, index) => ({ goal: `task ${index}` }));
      const outcome = await runtime.delegate({ tasks }).result;
      expect(outcome.results).toHaveLength(2000);
      expect(outcome.results.every((result) => result.status === 'completed')).toBe(true);
    } finally {
      ticking = false;
    }
    // 2,000 tasks in slices of 200: the event loop turned between the slices.
    expect(turns).toBeGreaterThanOrEqual(5);
  });

  it('drops the oldest events of a reader that falls behind and says how many', async () => {
    runtime = createRuntime({ run: async () => 'done' });
    const events = runtime.events({ bufferSize: 5 });
    const handle = runtime.spawn({ message: 'one' });
    await runtime.wait(handle.id);
    for (let index = 0; index < 3; index += 1) runtime.send(handle.id, `more ${index}`);
    await runtime.wait(handle.id);
    await nextMacrotask();
    const first = await events.next();
    expect(first.value).toMatchObject({ type: 'events-dropped' });
    expect((first.value as { count: number }).count).toBeGreaterThan(0);
    const rest: RuntimeEvent[] = [];
    for (let index = 0; index < 5; index += 1) rest.push((await events.next()).value as RuntimeEvent);
    expect(rest.every((event) => event.type !== 'events-dropped')).toBe(true);
    await events.return?.();
  });
});

describe('found in review', () => {
  it('a delegated child interrupted after an interrupting send jumped its goal still ends its goal', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => (turn.lastUserText === 'A' ? reply.text('a '.repeat(40), { chunkDelayMs: 10, chunkSize: 2 }) : reply.text('ok'))),
    });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', maxConcurrentChildren: 1 });
    const started = runtime.delegate({ tasks: [{ goal: 'A' }, { goal: 'B' }], background: true });
    const second = started.handleIds[1]!;
    expect(runtime.get(second).waitingForSlot).toBe(true);
    runtime.send(second, 'extra', { interrupt: true });
    runtime.interrupt(second);
    const outcome = await started.result;
    expect(outcome.results[1]).toMatchObject({ status: 'interrupted' });
    expect(runtime.get(second)).toMatchObject({ status: 'interrupted', queueSize: 0 });
  });

  it('tasks of a big batch not started when their parent is closed are never started', async () => {
    server = await startFakeServer({ script: () => reply.text('done') });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', maxSpawnDepth: 2, maxConcurrentChildren: 300 });
    runtime.spawn({ name: 'P', role: 'orchestrator' });
    const started = runtime.delegate({ tasks: Array.from({ length: 250 }, (_, index) => ({ goal: `t${index}` })), parentId: 'P', background: true });
    runtime.close('P');
    const { results } = await started.result;
    expect(results.filter((result) => result.status === 'completed')).toEqual([]);
    expect(results.slice(200).every((result) => /not started: its parent `P` is closed/.test(result.error ?? ''))).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('an orchestrator waiting on its foreground delegation is not stale while its child works', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        if (turn.systemText.includes('child-goal')) return reply.text('x '.repeat(40), { chunkDelayMs: 30, chunkSize: 2 });
        return turn.lastRole === 'tool' ? reply.text('orchestrator done') : reply.toolCall('delegate_task', { goal: 'child-goal' });
      }),
    });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', maxSpawnDepth: 2, staleTimeoutMs: 300 });
    const { results } = await runtime.delegate({ goal: 'orch-goal', role: 'orchestrator' }).result;
    expect(results[0]).toMatchObject({ status: 'completed', summary: 'orchestrator done' });
  });

  it('a tool error naming the key is redacted before it reaches events, results or the endpoint', async () => {
    const key = 'sk-review-secret-0123456789';
    const leaky = defineTool({
      name: 'leaky',
      toolset: 'test',
      description: 'Fails.',
      parameters: z.object({}),
      execute: () => {
        throw new Error(`upstream refused key ${key}`);
      },
    });
    server = await startFakeServer({ script: [reply.toolCall('leaky', {}), reply.text('fine')] });
    runtime = createRuntime({ client: clientFor(server, key), model: 'fake', tools: [leaky] });
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const { results } = await runtime.delegate({ goal: 'use leaky', toolsets: ['test'] }).result;
    await nextMacrotask();
    const text = JSON.stringify({ events, results, requests: server.requests.map((request) => request.body.messages) });
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(key);
  });

  it('shutdown() ends a root-agent conversation in flight as cancelled, and refuses new ones', async () => {
    server = await startFakeServer({ script: () => reply.text('w '.repeat(60), { chunkDelayMs: 10, chunkSize: 2 }) });
    runtime = createRuntime({ client: clientFor(server), model: 'fake' });
    const answer = runtime.runAgent('talk');
    await server.waitForRequests(1);
    await runtime.shutdown();
    await expect(answer).resolves.toMatchObject({ outcome: 'cancelled', text: '' });
    await expect(runtime.runAgent('after shutdown')).rejects.toBeInstanceOf(RuntimeShutDownError);
    expect(server.requests).toHaveLength(1);
  });

  it('running out of iterations while the model still calls tools is an error, its text partial', async () => {
    const noop = defineTool({ name: 'noop', toolset: 'test', description: 'Does nothing.', parameters: z.object({}), execute: () => 'ok' });
    server = await startFakeServer({ script: () => reply.toolCall('noop', {}, { content: 'Let me check first' }) });
    runtime = createRuntime({ client: clientFor(server), model: 'fake', tools: [noop], maxIterations: 2 });
    const { results } = await runtime.delegate({ goal: 'loop', toolsets: ['test'] }).result;
    expect(results[0]).toMatchObject({ status: 'error', exitReason: 'max_iterations', partialOutput: 'Let me check first' });
    expect(results[0]!.summary).toMatch(/maxIterations \(2 model calls\)/);
  });
});
