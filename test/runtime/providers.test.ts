/**
 * Provider settings, seen from the servers: request bodies per provider, a
 * server that refuses `stream_options` learnt once per runtime, and the
 * per-provider request limit as in-flight counts at two fake servers.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { BadArgumentError } from '../../src/errors.js';
import { modelRun } from '../../src/runtime/model-run.js';
import { createAgentTools } from '../../src/agent-tools/agent-tools.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { toolDefinitionsFor } from '../../src/toolkit/dynamic-tool.js';
import { messageText, quirks, reply } from '../../src/testing/index.js';
import type { FakeServer, RecordedRequest, Reply } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { useFakeServers } from '../support/fake-servers.js';

let runtime: Runtime | undefined;
closeAfterEach(() => [runtime]);
const start = useFakeServers();

/** Mistral: 422 to any request carrying `stream_options`, else an answer. */
const mistral = (request: RecordedRequest): Reply => (request.body.stream_options === undefined ? reply.text('ok') : quirks.streamOptionsForbidden());

describe('a server that refuses stream_options', () => {
  it('Mistral: the request is sent again without it once, and the provider remembers for the runtime’s life', async () => {
    const refusing = await start({ script: mistral });
    const other = await start({ script: () => reply.text('fine') });
    runtime = createRuntime({ run: modelRun({ providers: { default: refusing.client, other: other.client }, model: 'm' }) });
    const first = runtime.spawn({ message: 'one' });
    await runtime.wait(first.id);
    const second = runtime.spawn({ message: 'two' });
    const elsewhere = runtime.spawn({ message: 'three', provider: 'other' });
    await runtime.wait([second.id, elsewhere.id]);
    expect(runtime.get(first.id)).toMatchObject({ status: 'completed', lastOutput: 'ok' });
    expect(runtime.get(second.id)).toMatchObject({ status: 'completed', lastOutput: 'ok' });
    expect(refusing.server.requests.map((request) => request.body.stream_options ?? null)).toEqual([{ include_usage: true }, null, null]);
    // Usage is unknown without it: nothing is counted rather than a guess.
    expect(runtime.get(first.id).usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    // Another provider's server is not affected.
    expect(other.server.requests[0]?.body.stream_options).toEqual({ include_usage: true });
  });

  it('requestOptions `stream_options: null` sends none from the first request', async () => {
    const refusing = await start({ script: mistral });
    runtime = createRuntime({ run: modelRun({ providers: { default: { client: refusing.client, requestOptions: { stream_options: null } } }, model: 'm' }) });
    const handle = runtime.spawn({ message: 'one' });
    await runtime.wait(handle.id);
    expect(runtime.get(handle.id)).toMatchObject({ status: 'completed', lastOutput: 'ok' });
    expect(refusing.server.requests).toHaveLength(1);
    expect(refusing.server.requests[0]?.body).not.toHaveProperty('stream_options');
  });
});

describe('provider settings', () => {
  it('stream, requestOptions and model apply to the handles on that provider only', async () => {
    const main = await start({ script: () => reply.text('main') });
    const local = await start({ script: () => reply.text('local') });
    runtime = createRuntime({
      run: modelRun({
        providers: { default: main.client, local: { client: local.client, model: 'small', stream: false, requestOptions: { top_p: 0.5, temperature: 0 } } },
        model: 'big',
        requestOptions: { temperature: 0.7, seed: 1 },
      }),
    });
    const a = runtime.spawn({ message: 'one' });
    const b = runtime.spawn({ message: 'two', provider: 'local' });
    await runtime.wait([a.id, b.id]);
    expect(main.server.requests[0]?.body).toMatchObject({ model: 'big', stream: true, temperature: 0.7, seed: 1 });
    expect(main.server.requests[0]?.body).not.toHaveProperty('top_p');
    expect(local.server.requests[0]?.body).toMatchObject({ model: 'small', stream: false, temperature: 0, top_p: 0.5, seed: 1 });
  });

  it("prices: a provider's own prices go over the runtime's, in results and in usage()", async () => {
    const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000 };
    const main = await start({ script: () => reply.text('main', { usage }) });
    const local = await start({ script: () => reply.text('local', { usage }) });
    runtime = createRuntime({
      run: modelRun({ providers: { default: main.client, local: { client: local.client, prices: { m: { inputPerMillion: 0.5, outputPerMillion: 1 } } } }, model: 'm' }),
      prices: { m: { inputPerMillion: 2, outputPerMillion: 8 } },
    });
    const { results } = await runtime.delegate({ tasks: [{ goal: 'a' }, { goal: 'b', provider: 'local' }] }).result;
    expect(results.map((result) => [result.summary, result.cost])).toEqual([
      ['main', 10],
      ['local', 1.5],
    ]);
    expect(runtime.usage().cost).toBe(11.5);
  });

  it('bad provider settings name the setting, what was expected and what came', async () => {
    const { client } = await start({ script: () => reply.text('x') });
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ client, maxConcurrentRequests: 0 }, 'providers.p.maxConcurrentRequests', /an integer >= 1.*0/],
      [{ client, maxConcurrentRequests: 1.5 }, 'providers.p.maxConcurrentRequests', /an integer >= 1.*1\.5/],
      [{ client, stream: 'yes' }, 'providers.p.stream', /a boolean.*yes/],
      [{ client, echoReasoning: 1 }, 'providers.p.echoReasoning', /a boolean.*1/],
      [{ client, requestOptions: [] }, 'providers.p.requestOptions', /a plain object/],
      [{ client, prices: { m: { inputPerMillion: 'cheap' } } }, 'providers.p.prices.m', /inputPerMillion, outputPerMillion/],
    ];
    for (const [config, argument, message] of cases) {
      let error: unknown;
      try {
        modelRun({ providers: { p: config as never }, model: 'm' });
      } catch (caught) {
        error = caught;
      }
      expect(error, argument).toBeInstanceOf(BadArgumentError);
      expect(error).toMatchObject({ argument });
      expect((error as Error).message).toMatch(message);
    }
  });
});

/** A server whose answers wait until the test lets them go, counting requests in flight as it sees them. */
async function heldServer() {
  const held: Array<() => void> = [];
  let maxInFlight = 0;
  const started = await start({
    script: (request) =>
      new Promise<Reply>((resolve) => {
        maxInFlight = Math.max(maxInFlight, inFlight(started.server));
        held.push(() => resolve(reply.text(`answer to ${messageText(request.body.messages.at(-1)!)}`)));
      }),
  });
  return { ...started, held, maxInFlight: () => maxInFlight };
}

/** Requests the server has received and not finished answering. */
const inFlight = (server: FakeServer) => server.requests.filter((request) => !request.completed && !request.aborted).length;

describe('maxConcurrentRequests', () => {
  it('caps requests in flight across every handle on the provider, first come first served; another provider is not held back', async () => {
    const limited = await heldServer();
    const free = await heldServer();
    runtime = createRuntime({
      run: modelRun({ providers: { limited: { client: limited.client, maxConcurrentRequests: 2 }, free: free.client }, model: 'm' }),
      maxConcurrentChildren: 10,
    });
    const onLimited = [1, 2, 3, 4, 5].map((n) => runtime!.spawn({ message: `task ${n}`, provider: 'limited' }));
    const onFree = [1, 2, 3].map((n) => runtime!.spawn({ message: `free ${n}`, provider: 'free' }));
    await free.server.waitForRequests(3);
    await limited.server.waitForRequests(2);
    expect(free.maxInFlight()).toBe(3);
    expect(inFlight(limited.server)).toBe(2);
    // Each answer lets the next waiting request go, in the order they asked.
    for (let answered = 0; answered < 5; answered += 1) {
      limited.held.shift()!();
      if (answered + 2 < 5) await limited.server.waitForRequests(answered + 3);
    }
    for (const release of free.held.splice(0)) release();
    await runtime.wait([...onLimited, ...onFree].map((handle) => handle.id));
    expect(limited.maxInFlight()).toBe(2);
    expect(limited.server.requests.map((request) => messageText(request.body.messages.at(-1)!))).toEqual(['task 1', 'task 2', 'task 3', 'task 4', 'task 5']);
    expect(onLimited.map((handle) => runtime!.get(handle.id).lastOutput)).toEqual(['task 1', 'task 2', 'task 3', 'task 4', 'task 5'].map((task) => `answer to ${task}`));
  });

  it('a request waiting for a slot gives up its place when its run stops, and the next one goes', async () => {
    const limited = await heldServer();
    runtime = createRuntime({ run: modelRun({ providers: { limited: { client: limited.client, maxConcurrentRequests: 1 } }, model: 'm' }), maxConcurrentChildren: 10 });
    const first = runtime.spawn({ message: 'task 1' });
    const queued = runtime.spawn({ message: 'task 2' });
    const third = runtime.spawn({ message: 'task 3' });
    await limited.server.waitForRequests(1);
    runtime.interrupt(queued.id);
    await runtime.wait(queued.id);
    limited.held.shift()!();
    await limited.server.waitForRequests(2);
    limited.held.shift()!();
    await runtime.wait([first.id, third.id]);
    expect(runtime.get(queued.id).status).toBe('interrupted');
    expect(limited.server.requests.map((request) => messageText(request.body.messages.at(-1)!))).toEqual(['task 1', 'task 3']);
    expect(runtime.get(third.id)).toMatchObject({ status: 'completed', lastOutput: 'answer to task 3' });
  });
});

describe('a provider per child, from the caller', () => {
  /** A runtime on two providers whose servers answer with their own name, and the tools as the root agent calls them. */
  async function twoProviders() {
    const main = await start({ script: () => reply.text('main answered') });
    const local = await start({ script: () => reply.text('local answered') });
    runtime = createRuntime({ run: modelRun({ providers: { default: main.client, local: { client: local.client, model: 'small' } }, model: 'big' }) });
    const tools = createAgentTools(runtime);
    const dispatch = createToolDispatcher(runtime, tools, { handleId: null });
    const call = async (name: string, args: unknown) => JSON.parse(await dispatch(name, JSON.stringify(args))) as Record<string, unknown>;
    return { main, local, tools, call };
  }

  it('runtime.delegate takes provider next to model; provider alone uses that provider’s model', async () => {
    const { main, local } = await twoProviders();
    const { results } = await runtime!.delegate({ tasks: [{ goal: 'one', provider: 'local' }, { goal: 'two', provider: 'local', model: 'tiny' }, { goal: 'three' }] }).result;
    expect(results.map((result) => [result.summary, result.model])).toEqual([
      ['local answered', 'small'],
      ['local answered', 'tiny'],
      ['main answered', 'big'],
    ]);
    expect(local.server.requests.map((request) => request.body.model).sort()).toEqual(['small', 'tiny']);
    expect(main.server.requests.map((request) => request.body.model)).toEqual(['big']);
  });

  it('delegate_task and spawn_agent offer the configured providers as an enum, and route the child there', async () => {
    const { local, tools, call } = await twoProviders();
    const definitions = tools.map((tool) => toolDefinitionsFor([tool], { handleId: null, depth: 0 })[0]!);
    const byName = new Map(definitions.map((definition) => [definition.function.name, definition.function]));
    const delegateTask = byName.get('delegate_task')!;
    const parameters = delegateTask.parameters as { properties: Record<string, { enum?: string[]; description?: string; items?: { properties: Record<string, { enum?: string[] }> } }> };
    expect(parameters.properties.provider?.enum).toEqual(['default', 'local']);
    expect(parameters.properties.provider?.description).toContain("'default', 'local'");
    expect(parameters.properties.tasks?.items?.properties.provider?.enum).toEqual(['default', 'local']);
    expect(delegateTask.description).toContain("Providers: 'default' (default), 'local'.");
    const spawnAgent = byName.get('spawn_agent')!.parameters as { properties: Record<string, { enum?: string[] }> };
    expect(spawnAgent.properties.provider?.enum).toEqual(['default', 'local']);

    const delegated = await call('delegate_task', { goal: 'Look it up', provider: 'local' });
    expect(delegated).toMatchObject({ ok: true, results: [{ summary: 'local answered', model: 'small' }] });
    const spawned = (await call('spawn_agent', { message: 'hi', provider: 'local' })) as { handle: { id: string } };
    await runtime!.wait(spawned.handle.id);
    expect(runtime!.get(spawned.handle.id)).toMatchObject({ lastOutput: 'local answered', model: 'small' });
    expect(local.server.requests).toHaveLength(2);
  });

  it('an unknown provider is refused to the model with the configured names, before anything starts', async () => {
    const { main, local, call } = await twoProviders();
    const delegated = await call('delegate_task', { goal: 'Look it up', provider: 'cloud' });
    expect(delegated).toMatchObject({ ok: false, error: { code: 'bad_argument', field: 'provider' } });
    expect((delegated.error as { message: string }).message).toMatch(/default, local.*cloud/s);
    const spawned = await call('spawn_agent', { message: 'hi', provider: 'cloud' });
    expect(spawned).toMatchObject({ ok: false, error: { field: 'provider' } });
    expect((spawned.error as { message: string }).message).toMatch(/'default', 'local'.*cloud|cloud.*'default', 'local'/s);
    expect(runtime!.list()).toEqual([]);
    expect(main.server.requests.length + local.server.requests.length).toBe(0);
  });
});

describe('Retry-After, per provider', () => {
  it('a 429 with Retry-After holds back every call to that provider until then, and no other provider', async () => {
    const held = await start({ script: [reply.status(429, { retryAfter: 1 }), reply.text('a'), reply.text('b')] });
    const other = await start({ script: () => reply.text('elsewhere') });
    let retriedAt = 0;
    let markRetried!: () => void;
    const retried = new Promise<void>((resolve) => (markRetried = resolve));
    const logger = {
      debug: (message: string) => {
        if (!message.includes('retrying') || retriedAt !== 0) return;
        retriedAt = performance.now();
        markRetried();
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    runtime = createRuntime({ run: modelRun({ providers: { default: held.client, other: other.client }, model: 'm' }), logger });
    const first = runtime.spawn({ message: 'one' });
    await retried;
    // Spawned once the server has asked the first call to wait: the pause applies to them too.
    const second = runtime.spawn({ message: 'two' });
    const elsewhere = runtime.spawn({ message: 'three', provider: 'other' });
    const { completed } = await runtime.wait([first.id, second.id, elsewhere.id], { timeoutMs: 20_000 });
    expect(completed.map((handle) => handle.status)).toEqual(['completed', 'completed', 'completed']);

    const [refused, ...after] = held.server.requests;
    expect(refused?.receivedAt).toBeLessThan(retriedAt);
    expect(after).toHaveLength(2);
    // Timers never fire early by more than a millisecond; the pause is 1 s from the retry decision.
    for (const request of after) expect(request.receivedAt - retriedAt).toBeGreaterThanOrEqual(1_000 - 2);
    // The other provider's server was not held back: its request came before the held ones went out again.
    expect(other.server.requests[0]!.receivedAt).toBeLessThan(Math.min(...after.map((request) => request.receivedAt)));
  });
});

describe('the review of the provider layer', () => {
  it('a call queued behind the one that got a Retry-After waits the pause out too', async () => {
    const held = await start({ script: [reply.status(429, { retryAfter: 1 }), reply.text('a'), reply.text('b')] });
    runtime = createRuntime({ run: modelRun({ providers: { default: { client: held.client, maxConcurrentRequests: 1 } }, model: 'm' }) });
    const first = runtime.spawn({ message: 'one' });
    const second = runtime.spawn({ message: 'two' });
    const { completed } = await runtime.wait([first.id, second.id], { timeoutMs: 20_000 });
    expect(completed.map((handle) => handle.status)).toEqual(['completed', 'completed']);
    const [refused, ...after] = held.server.requests;
    expect(after).toHaveLength(2);
    // The pause starts once the 429 is read, after its request came in: nothing goes out again within the second.
    for (const request of after) expect(request.receivedAt - refused!.receivedAt).toBeGreaterThanOrEqual(1_000 - 2);
  });

  it('the root agent shares the default provider: it waits out a Retry-After its children got', async () => {
    const held = await start({ script: [reply.status(429, { retryAfter: 1 }), reply.text('child done'), reply.text('root done')] });
    let markRetried!: () => void;
    const retried = new Promise<void>((resolve) => (markRetried = resolve));
    const logger = { debug: (message: string) => message.includes('retrying') && markRetried(), info: () => {}, warn: () => {}, error: () => {} };
    runtime = createRuntime({ run: modelRun({ client: held.client, model: 'm' }), logger });
    const child = runtime.spawn({ message: 'one' });
    await retried;
    const answer = await runtime.runAgent('hello');
    await runtime.wait(child.id, { timeoutMs: 20_000 });
    expect(answer.outcome).toBe('completed');
    const [refused, ...after] = held.server.requests;
    const rootRequest = after.find((request) => request.body.messages.some((message) => message.role === 'user' && messageText(message) === 'hello'));
    expect(rootRequest).toBeDefined();
    expect(rootRequest!.receivedAt - refused!.receivedAt).toBeGreaterThanOrEqual(1_000 - 2);
  });

  it('a key given where a client was expected is not shown in the error', () => {
    const key = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef';
    let error: unknown;
    try {
      createRuntime({ client: key as never, model: 'm' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BadArgumentError);
    expect(`${(error as Error).message} ${String((error as BadArgumentError).received)} ${JSON.stringify(error)}`).not.toContain(key.slice(8, 30));
    expect((error as Error).message).toMatch(/shaped like a credential \(not shown\)/);
  });

  it('a model run logged or spread carries no client and no key', () => {
    const key = 'sk-live-0123456789abcdef';
    const strategy = modelRun({ client: { apiKey: key, chat: { completions: { create: () => Promise.reject(new Error('unused')) } } } as never, model: 'm' });
    expect(JSON.stringify(strategy)).toBe('{"kind":"model-run","providers":["default"],"defaultProvider":"default","model":"m"}');
    expect(Object.keys({ ...strategy })).not.toContain('secrets');
    expect(Object.keys({ ...strategy })).not.toContain('providers');
    // Still a strategy createRuntime takes.
    expect(() => createRuntime({ run: strategy }).shutdown()).not.toThrow();
  });
});
