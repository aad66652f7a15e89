import OpenAI from 'openai';
import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelOutputError, ModelRequestError } from '../../src/errors.js';
import { callModel, partialOutputOf, type ModelCallOptions } from '../../src/model/model-call.js';
import { reply, startFakeServer, type FakeServer, type FakeServerOptions, type RecordedRequest } from '../../src/testing/index.js';
import { OPENAI_MAJOR } from '../support/openai-version.js';

const servers: FakeServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: FakeServerOptions, apiKey = 'k'): Promise<{ server: FakeServer; client: OpenAI }> {
  const server = await startFakeServer(options);
  servers.push(server);
  return { server, client: new OpenAI({ baseURL: server.url, apiKey, maxRetries: 0, logLevel: 'off' }) };
}

/** A call with test defaults: streamed, fast retries, a signal that never fires unless given. */
function call(client: OpenAI, options: Partial<ModelCallOptions> = {}) {
  return callModel({
    client,
    model: 'm',
    messages: [{ role: 'user', content: 'Hello' }],
    tools: [],
    signal: new AbortController().signal,
    stream: true,
    retryBaseDelayMs: 1,
    ...options,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

function nextAbort(server: FakeServer): Promise<RecordedRequest> {
  return new Promise((resolve) => {
    const unsubscribe = server.onAbort((request) => {
      unsubscribe();
      resolve(request);
    });
  });
}

const CONTENT = 'The report says that the numbers are up';

describe('callModel: a turn that does not finish never passes for an answer', () => {
  it.each([
    ['destroyed', reply.cut(3, { content: CONTENT })],
    ['reset', reply.reset(3, { content: CONTENT })],
    ['cut in the middle of a chunk', reply.cutMidChunk(3, { content: CONTENT })],
  ])('rejects a stream whose connection is %s, with the streamed text as partial output, and does not retry it', async (_how, fault) => {
    const { server, client } = await start({ script: [fault, reply.text('should never be asked for')] });
    const deltas: string[] = [];

    const error = await failureOf(call(client, { onTextDelta: (delta) => deltas.push(delta) }));

    expect(error).toBeInstanceOf(ModelOutputError);
    expect(error).toMatchObject({ reason: 'stream_cut', finishReason: null, partialOutput: deltas.join('') });
    expect(deltas.join('')).toBe(CONTENT.slice(0, 32));
    expect(partialOutputOf(error)).toBe(CONTENT.slice(0, 32));
    expect((error as Error).message).toMatch(/^stream_cut: expected the model's response to end with a finish_reason, got a stream cut off after 3 chunks: /);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a stream that ends cleanly in the middle of a chunk, without finish_reason', async () => {
    const { client } = await start({ script: [reply.cutMidChunk(3, { content: CONTENT, close: 'end' })] });

    const error = await failureOf(call(client));

    expect(error).toBeInstanceOf(ModelOutputError);
    expect(error).toMatchObject({ reason: 'stream_cut', partialOutput: CONTENT.slice(0, 32) });
    // openai 6 drops the half event and the stream just ends; openai 7 reports the half event.
    expect((error as Error).message).toBe(
      OPENAI_MAJOR === 6
        ? "stream_cut: expected the model's response to end with a finish_reason, got a stream that ended after 3 chunks without one (connection cut?)"
        : "stream_cut: expected the model's response to end with a finish_reason, got a stream cut off after 3 chunks: Error reading response: malformed server-sent event JSON.",
    );
  });

  it('rejects a complete stream without finish_reason, and accepts it with allowMissingFinishReason', async () => {
    const { client } = await start({
      script: [reply.text('Hi there', { finishReason: null }), reply.text('Hi there', { finishReason: null })],
    });

    const error = await failureOf(call(client));
    const turn = await call(client, { allowMissingFinishReason: true });

    expect(error).toBeInstanceOf(ModelOutputError);
    expect(error).toMatchObject({ reason: 'stream_cut', finishReason: null, partialOutput: 'Hi there' });
    expect(turn).toMatchObject({ content: 'Hi there', finishReason: null, toolCalls: [] });
  });

  it.each([
    ['length', 'output_truncated'],
    ['content_filter', 'content_filter'],
    ['error', 'model_error'],
  ])('rejects finish_reason %s as %s, streamed and not', async (finishReason, reason) => {
    const { server, client } = await start({
      script: [reply.text('Half an', { finishReason }), reply.text('Half an', { finishReason })],
    });

    const streamed = await failureOf(call(client));
    const whole = await failureOf(call(client, { stream: false }));

    expect(streamed).toBeInstanceOf(ModelOutputError);
    expect(streamed).toMatchObject({ reason, finishReason, partialOutput: 'Half an' });
    expect((streamed as Error).message).toContain(`got finish_reason \`${finishReason}\``);
    expect(whole).toBeInstanceOf(ModelOutputError);
    expect(whole).toMatchObject({ reason, finishReason, partialOutput: null });
    expect(server.requests).toHaveLength(2);
  });

  it('rejects a non-streamed response without finish_reason, and accepts it with allowMissingFinishReason', async () => {
    const { client } = await start({
      script: [reply.text('Hi', { finishReason: null }), reply.text('Hi', { finishReason: null })],
    });

    const error = await failureOf(call(client, { stream: false }));
    const turn = await call(client, { stream: false, allowMissingFinishReason: true });

    expect(error).toBeInstanceOf(ModelOutputError);
    expect(error).toMatchObject({ reason: 'stream_cut', finishReason: null });
    expect((error as Error).message).toContain('got a response whose first choice has no finish_reason');
    expect(turn).toMatchObject({ content: 'Hi', finishReason: null });
  });

  it('rejects a non-streamed body cut mid-way after its retries, and retries it before', async () => {
    const { server, client } = await start({ script: [reply.cut(1), reply.reset(1), reply.cutMidChunk(1)] });

    const error = await failureOf(call(client, { stream: false, maxRetries: 2 }));

    expect(error).toBeInstanceOf(ModelOutputError);
    expect(error).toMatchObject({ reason: 'stream_cut', partialOutput: null });
    expect((error as Error).message).toContain('got a response body cut off before it ended');
    expect(server.requests).toHaveLength(3);
  });

  it('rejects a stream whose chunk does not parse as malformed_response', async () => {
    const { client } = await start({ script: [reply.malformed(), reply.malformed()] });

    await expect(call(client)).rejects.toMatchObject({ reason: 'malformed_response' });
    await expect(call(client, { stream: false })).rejects.toMatchObject({ reason: 'malformed_response' });
  });

  it('retries a stream that failed before delivering any text, and then succeeds', async () => {
    const { server, client } = await start({
      script: [reply.reset(0), reply.cut(1, { content: CONTENT }), reply.text('Recovered')],
    });

    const turn = await call(client);

    expect(turn).toMatchObject({ content: 'Recovered', finishReason: 'stop' });
    expect(server.requests).toHaveLength(3);
  });
});

describe('callModel: finished turns', () => {
  it('returns streamed text, tool calls, thinking-free usage and the finish reason', async () => {
    const { server, client } = await start({
      script: [
        reply.toolCall('get_weather', { city: 'Oslo' }, { content: 'Checking.', usage: { promptTokens: 7, completionTokens: 3 } }),
        reply.text('Sunny.', { usage: { promptTokens: 9, completionTokens: 2 } }),
      ],
    });
    const deltas: string[] = [];
    let progress = 0;

    const first = await call(client, { onTextDelta: (delta) => deltas.push(delta), onProgress: () => (progress += 1) });
    const second = await call(client, { stream: false });

    expect(first).toEqual({
      content: 'Checking.',
      toolCalls: [{ id: 'call_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      usage: { inputTokens: 7, outputTokens: 3 },
      finishReason: 'tool_calls',
      reasoning: null,
    });
    expect(deltas.join('')).toBe('Checking.');
    expect(progress).toBeGreaterThanOrEqual(4);
    expect(second).toEqual({ content: 'Sunny.', toolCalls: [], usage: { inputTokens: 9, outputTokens: 2 }, finishReason: 'stop', reasoning: null });
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(server.requests[1]?.body.stream).toBe(false);
  });
});

describe('callModel: the run signal', () => {
  it('rejects with the signal reason within a bounded time when aborted mid-stream, with the partial output', async () => {
    const { server, client } = await start({ script: [reply.slowLoris({ intervalMs: 10, content: 'Thinking about it' })] });
    const controller = new AbortController();
    const reason = new Error('run stopped');
    const aborted = nextAbort(server);
    let allDelivered!: () => void;
    const delivered = new Promise<void>((resolve) => (allDelivered = resolve));
    let streamed = '';

    // Aborted once the whole text has arrived (clients deliver the events of one read together or one by one).
    const onTextDelta = (delta: string) => {
      streamed += delta;
      if (streamed === 'Thinking about it') allDelivered();
    };
    const pending = call(client, { signal: controller.signal, onTextDelta });
    const settled = failureOf(pending);
    await delivered;
    const abortedAt = performance.now();
    controller.abort(reason);
    const error = await settled;
    const elapsedMs = performance.now() - abortedAt;

    expect(error).toBe(reason);
    expect(partialOutputOf(error)).toBe('Thinking about it');
    expect(elapsedMs).toBeLessThan(2_000);
    expect((await aborted).aborted).toBe(true);
  });

  it('rejects with the signal reason when aborted before the response headers', async () => {
    const { server, client } = await start({ script: [reply.hang()] });
    const controller = new AbortController();
    const pending = failureOf(call(client, { signal: controller.signal, stream: false }));
    await server.waitForRequests(1);

    controller.abort('shutdown');

    expect(await pending).toBe('shutdown');
  });

  it('rejects at once with an already aborted signal, making no request', async () => {
    const { server, client } = await start({ script: [reply.text('never')] });

    await expect(call(client, { signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
    expect(server.requests).toHaveLength(0);
  });

  it('stops waiting out a Retry-After of 15 s as soon as the signal fires, leaving no timer', async () => {
    const timersBefore = activeTimeouts();
    const { server, client } = await start({ script: [reply.status(429, { retryAfter: 15 }), reply.text('too late')] });
    const controller = new AbortController();
    const reason = new Error('child timeout');
    server.onRequest(() => setTimeout(() => controller.abort(reason), 300));

    const started = performance.now();
    const error = await failureOf(call(client, { signal: controller.signal }));
    const elapsedMs = performance.now() - started;

    expect(error).toBe(reason);
    expect(elapsedMs).toBeLessThan(3_000);
    // The base delay is 1 ms: a second request would mean Retry-After was ignored.
    expect(server.requests).toHaveLength(1);
    expect(activeTimeouts()).toBeLessThanOrEqual(timersBefore);
  });

  it('adds no abort listener per request: twelve calls on one signal raise no MaxListenersExceededWarning', async () => {
    const script = Array.from({ length: 15 }, () => reply.text('ok'));
    const { client } = await start({ script });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController().signal;
      const listenersSeen: number[] = [];
      for (let index = 0; index < 12; index += 1) {
        await call(client, { signal: shared, onProgress: () => listenersSeen.push(getEventListeners(shared, 'abort').length) });
      }
      await new Promise((resolve) => setImmediate(resolve));

      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
      expect(Math.max(...listenersSeen)).toBe(1);
      expect(getEventListeners(shared, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
    // The oracle: openai 6's own signal option keeps a listener per request (three stay under the warning); openai 7 drops it.
    const leaky = new AbortController().signal;
    for (let index = 0; index < 3; index += 1) {
      await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }, { signal: leaky });
    }
    expect(getEventListeners(leaky, 'abort')).toHaveLength(OPENAI_MAJOR === 6 ? 3 : 0);
  });
});

describe('callModel: retries', () => {
  it('retries a 429 after the Retry-After the server gives, then succeeds', async () => {
    const { server, client } = await start({
      script: [reply.status(429, { headers: { 'retry-after-ms': '60' } }), reply.text('Done.')],
    });
    let progress = 0;

    const turn = await call(client, { onProgress: () => (progress += 1) });

    expect(turn.content).toBe('Done.');
    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(55);
    expect(progress).toBeGreaterThanOrEqual(1);
  });

  it('retries a Retry-After given in seconds', async () => {
    const { server, client } = await start({ script: [reply.status(503, { retryAfter: 0 }), reply.text('Done.')] });

    await expect(call(client, { stream: false })).resolves.toMatchObject({ content: 'Done.' });
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxRetries on repeated 500s, saying how many attempts were made', async () => {
    const { server, client } = await start({ script: [reply.status(500), reply.status(500), reply.status(500), reply.text('late')] });

    const error = await failureOf(call(client, { maxRetries: 2 }));

    expect(error).toBeInstanceOf(ModelRequestError);
    expect(error).toMatchObject({ status: 500, retryable: true, attempts: 3, partialOutput: null, code: 'model_request' });
    expect((error as Error).message).toBe(
      'Expected a successful response from the model endpoint, got HTTP 500 after 3 attempts: fake server: scripted 500 fault for request #2',
    );
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 400', async () => {
    const { server, client } = await start({ script: [reply.status(400), reply.text('never')] });

    const error = await failureOf(call(client));

    expect(error).toBeInstanceOf(ModelRequestError);
    expect(error).toMatchObject({ status: 400, retryable: false, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('does not wait out a Retry-After longer than a minute: it fails at once and says so', async () => {
    const { server, client } = await start({ script: [reply.status(429, { retryAfter: 3600 }), reply.text('never')] });

    const error = await failureOf(call(client));

    expect(error).toMatchObject({ status: 429, retryable: true, attempts: 1 });
    expect((error as Error).message).toContain('the server asks to retry after 3600 s');
    expect(server.requests).toHaveLength(1);
  });

  it('retries connection failures and reports them with status null', async () => {
    const { server, client } = await start({ script: [reply.reset(0), reply.reset(0)] });

    const error = await failureOf(call(client, { maxRetries: 1 }));

    expect(error).toBeInstanceOf(ModelRequestError);
    expect(error).toMatchObject({ status: null, retryable: true, attempts: 2 });
    expect((error as Error).message).toMatch(/^Expected a response from the model endpoint, got a connection failure after 2 attempts: /);
    expect(server.requests).toHaveLength(2);
  });
});

describe('callModel: secrets', () => {
  it('redacts an API key that a 401 echoes, and drops the original error that holds it', async () => {
    const key = 'local-dev-key-0123456789';
    const body = { error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', code: 'invalid_api_key' } };
    const { client } = await start({ script: [reply.status(401, { body })] }, key);

    const error = await failureOf(call(client, { secrets: [key] }));

    expect(error).toBeInstanceOf(ModelRequestError);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect((error as Error).message).toBe(
      'Expected a successful response from the model endpoint, got HTTP 401 after 1 attempt: Incorrect API key provided: [redacted].',
    );
    expect((error as Error).cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain(key);
  });

  it('keeps the original error as cause when it names no secret', async () => {
    const { client } = await start({ script: [reply.status(404)] });

    const error = await failureOf(call(client, { secrets: ['local-dev-key-0123456789'] }));

    expect((error as Error).cause).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
