import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { reply, startFakeServer, type FakeServer, type RecordedRequest } from '../../src/testing/index.js';
import { useFakeServers } from '../support/fake-servers.js';

const start = useFakeServers();

const messages = [{ role: 'user' as const, content: 'Hello there' }];

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function nextAbort(server: FakeServer): Promise<RecordedRequest> {
  return new Promise((resolve) => {
    const unsubscribe = server.onAbort((request) => {
      unsubscribe();
      resolve(request);
    });
  });
}

describe('startFakeServer', () => {
  it('answers a non-streaming request with the scripted text and an estimated usage', async () => {
    const { server, client } = await start({ script: [reply.text('Hi! How can I help?')] });

    const completion = await client.chat.completions.create({ model: 'gpt-test', messages });

    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hi! How can I help?' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    // 'Hello there' is 11 characters: 4 + ceil(11 / 4); the 19-character answer: ceil(19 / 4).
    expect(completion.usage).toEqual({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
    expect(server.requests[0]?.completed).toBe(true);
  });

  it('streams text in chunks and ends with a usage chunk when include_usage is set', async () => {
    const content = 'The quick brown fox jumps over the lazy dog.'; // 44 characters: 3 deltas of 16
    const { client } = await start({ script: [reply.text(content, { usage: { promptTokens: 11, completionTokens: 9 } })] });

    const chunks = await collect(
      await client.chat.completions.create({
        model: 'gpt-test',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''));
    expect(deltas.join('')).toBe(content);
    expect(deltas.filter((delta) => delta !== '')).toEqual([content.slice(0, 16), content.slice(16, 32), content.slice(32)]);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  });

  it('sends no usage chunk when the stream does not ask for one', async () => {
    const { client } = await start({ script: [reply.text('short')] });

    const chunks = await collect(await client.chat.completions.create({ model: 'm', messages, stream: true }));

    expect(chunks.every((chunk) => chunk.choices.length === 1 && chunk.usage === undefined)).toBe(true);
  });

  it('returns tool calls without streaming, arguments as JSON text', async () => {
    const { client } = await start({
      script: [reply.toolCall('get_weather', { city: 'Oslo', days: 3 }, { content: 'Checking.' })],
    });

    const completion = await client.chat.completions.create({ model: 'm', messages, tools: [weatherTool] });

    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('Checking.');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call?.id).toBe('call_0_0');
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Oslo', days: 3 });
  });

  it('streams several tool calls whose argument fragments reassemble to the scripted JSON', async () => {
    const longTask = { task: 'Summarise the quarterly report and list the three biggest risks', priority: 2 };
    const { client } = await start({
      script: [
        reply.toolCalls([
          { name: 'delegate_task', arguments: longTask, id: 'call_a' },
          { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        ]),
      ],
    });

    const chunks = await collect(
      await client.chat.completions.create({ model: 'm', messages, tools: [weatherTool], stream: true }),
    );

    const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
    let fragments = 0;
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = (calls[delta.index] ??= { arguments: '' });
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.name = delta.function.name;
        if (delta.function?.arguments) {
          call.arguments += delta.function.arguments;
          fragments += 1;
        }
      }
    }
    expect(calls).toEqual([
      { id: 'call_a', name: 'delegate_task', arguments: JSON.stringify(longTask) },
      { id: 'call_0_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
    expect(JSON.parse(calls[0]?.arguments ?? '')).toEqual(longTask);
    expect(fragments).toBeGreaterThan(2); // the long arguments arrive in several pieces
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('works with the client stream helper and its finalChatCompletion', async () => {
    const { client } = await start({
      script: [reply.toolCall('get_weather', { city: 'Lima' }, { content: 'One moment.' })],
    });

    const stream = client.chat.completions.stream({
      model: 'm',
      messages,
      tools: [weatherTool],
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();

    const message = final.choices[0]?.message;
    expect(message?.content).toBe('One moment.');
    expect(message?.tool_calls).toMatchObject([
      { id: 'call_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lima"}' } },
    ]);
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('records each request body, tools offered, headers and arrival order', async () => {
    const { server, client } = await start({ script: [reply.text('one'), reply.text('two')] });
    const seen: number[] = [];
    server.onRequest((request) => seen.push(request.index));

    await client.chat.completions.create({ model: 'first', messages, tools: [weatherTool] });
    await client.chat.completions.create({ model: 'second', messages, stream: true }).then(collect);

    expect(seen).toEqual([0, 1]);
    const [first, second] = server.requests;
    expect(first?.body.model).toBe('first');
    expect(first?.body.tools?.[0]?.function.name).toBe('get_weather');
    expect(first?.body.tools?.[0]?.function.parameters).toEqual(weatherTool.function.parameters);
    expect(first?.body.messages).toEqual(messages);
    expect(first?.headers.authorization).toBe('Bearer test');
    expect(second?.body.stream).toBe(true);
    expect(second?.index).toBe(1);
    expect(second?.completed).toBe(true);
    expect(second?.aborted).toBe(false);
    expect((second?.receivedAt ?? 0) > (first?.receivedAt ?? Infinity)).toBe(true);
  });

  it('waits latencyMs before answering, per server and per reply', async () => {
    const { client } = await start({ script: [reply.text('slow'), reply.text('slower', { latencyMs: 120 })], latencyMs: 60 });

    let started = performance.now();
    await client.chat.completions.create({ model: 'm', messages });
    const serverDefault = performance.now() - started;
    started = performance.now();
    await client.chat.completions.create({ model: 'm', messages });
    const perReply = performance.now() - started;

    expect(serverDefault).toBeGreaterThanOrEqual(59);
    expect(perReply).toBeGreaterThanOrEqual(119);
  });

  it('spaces streamed chunks by chunkDelayMs', async () => {
    const { server, client } = await start({ script: [reply.text('abcdef', { chunkSize: 2, chunkDelayMs: 25 })] });

    const started = performance.now();
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    let chunks = 0;
    let completedAtFirstChunk: boolean | undefined;
    for await (const _chunk of stream) {
      chunks += 1;
      completedAtFirstChunk ??= server.requests[0]?.completed;
    }
    const elapsed = performance.now() - started;

    // role, 3 content deltas, finish: 5 chunks, so 4 gaps of 25 ms, and the
    // first chunk comes while the response is still being written.
    expect(chunks).toBe(5);
    expect(completedAtFirstChunk).toBe(false);
    expect(elapsed).toBeGreaterThanOrEqual(4 * 25 - 1);
  });

  it('turns status faults into OpenAI.APIError with the status, body and headers', async () => {
    const { client } = await start({
      script: [
        reply.status(429, { headers: { 'retry-after-ms': '10' } }),
        reply.status(500, { body: { error: { message: 'model overloaded', type: 'server_error' } } }),
        reply.status(503),
      ],
    });

    const rateLimited = await client.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    expect(rateLimited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(rateLimited).toMatchObject({ status: 429, message: '429 fake server: scripted 429 fault for request #0' });
    if (!(rateLimited instanceof OpenAI.RateLimitError)) throw new Error('expected a RateLimitError');
    expect(rateLimited.headers.get('retry-after-ms')).toBe('10');

    const serverError = await client.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    expect(serverError).toBeInstanceOf(OpenAI.InternalServerError);
    expect(serverError).toMatchObject({ status: 500, message: '500 model overloaded' });

    // A streaming request gets the same JSON error, before any SSE.
    const streamed = await client.chat.completions.create({ model: 'm', messages, stream: true }).catch((error: unknown) => error);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect(streamed).toMatchObject({ status: 503 });
  });

  it('cuts a stream after the given chunks so that the iteration throws', async () => {
    const { server, client } = await start({ script: [reply.cut(2, { content: 'a long answer that never ends' })] });

    const received: ChatCompletionChunk[] = [];
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk);
    })().catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(Error);
    expect(received.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['', 'a long answer th']);
    expect(server.requests[0]).toMatchObject({ completed: false, aborted: false });
  });

  it('cuts a non-streaming body half-way so that the client throws', async () => {
    const { server, client } = await start({ script: [reply.cut(1)] });

    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toThrow();
    expect(server.requests[0]?.completed).toBe(false);
  });

  it('sends a malformed body or SSE line that the client fails to parse', async () => {
    const { client } = await start({ script: [reply.malformed(), reply.malformed()] });

    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(SyntaxError);
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    await expect(collect(stream)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('answers 500 with a clear message and records the request when the list script runs out', async () => {
    const { server, client } = await start({ script: [reply.text('only one')] });

    await client.chat.completions.create({ model: 'm', messages });
    const error = await client.chat.completions.create({ model: 'm', messages }).catch((caught: unknown) => caught);

    const expected = 'fake server script exhausted: request #1 has no scripted reply (1 reply was scripted, for request #0)';
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 500, message: `500 ${expected}` });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.scriptError).toBe(expected);
  });

  it('answers 500 with the reason when a function script throws', async () => {
    const { server, client } = await start({
      script: () => {
        throw new Error('no branch for this conversation');
      },
    });

    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({
      status: 500,
      message: '500 fake server script threw for request #0: no branch for this conversation',
    });
    expect(server.requests[0]?.scriptError).toBe('fake server script threw for request #0: no branch for this conversation');
  });

  it('records a client abort of a hanging request at once and tells onAbort', async () => {
    const { server, client } = await start({ script: [reply.hang()] });
    const aborted = nextAbort(server);
    const controller = new AbortController();

    const call = client.chat.completions.create({ model: 'm', messages }, { signal: controller.signal });
    const rejection = expect(call).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await server.waitForRequests(1);
    const abortCalledAt = performance.now();
    controller.abort();

    const record = await aborted;
    await rejection;
    expect(record).toBe(server.requests[0]);
    expect(record).toMatchObject({ aborted: true, completed: false });
    expect(record.abortedAt).toBeGreaterThanOrEqual(abortCalledAt);
    // Generous for a loaded machine; the bug this guards against is never noticing (or a 60 s wait).
    expect((record.abortedAt ?? Infinity) - abortCalledAt).toBeLessThan(2_000);
  });

  it('records a client abort in the middle of a slow stream and stops writing', async () => {
    const { server, client } = await start({
      script: [reply.text('x'.repeat(64), { chunkSize: 1, chunkDelayMs: 20 })],
    });
    const aborted = nextAbort(server);
    const controller = new AbortController();

    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true }, { signal: controller.signal });
    let received = 0;
    for await (const _chunk of stream) {
      received += 1;
      if (received === 3) controller.abort();
    }

    const record = await aborted;
    expect(received).toBe(3);
    expect(record).toMatchObject({ index: 0, aborted: true, completed: false });
  });

  it('closes promptly with a hanging request and a long pending delay, leaving no timers', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const server = await startFakeServer({ script: [reply.hang(), reply.text('late', { latencyMs: 60_000 })] });
    const client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
    const onAbort: RecordedRequest[] = [];
    server.onAbort((request) => onAbort.push(request));

    const hanging = client.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    const delayed = client.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    await server.waitForRequests(2);
    // Let the script's reply be resolved so that the 60 s delay timer is running.
    await new Promise((resolve) => setImmediate(resolve));
    const pendingWait = server.waitForRequests(3, 60_000).catch((error: unknown) => error);

    const started = performance.now();
    await server.close();
    const closeMs = performance.now() - started;

    expect(closeMs).toBeLessThan(3_000);
    expect(await hanging).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(await delayed).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(await pendingWait).toEqual(new Error('fake server: expected 3 requests, 2 arrived before the server closed'));
    // Closing on purpose is not a client abort.
    expect(onAbort).toEqual([]);
    expect(server.requests.map((request) => request.aborted)).toEqual([false, false]);
    const timersAfter = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    // Other tests' timers may end meanwhile; none of the server's may remain (its 60 s delay among them).
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    await server.close(); // idempotent
  });

  it('rejects waitForRequests with the counts when the timeout passes', async () => {
    const { server, client } = await start({ script: [reply.text('a')] });
    await client.chat.completions.create({ model: 'm', messages });

    await expect(server.waitForRequests(1)).resolves.toBeUndefined();
    await expect(server.waitForRequests(2, 30)).rejects.toThrow('fake server: expected 2 requests, 1 arrived before 30 ms passed');
  });

  it('answers 404 to unknown paths and 400 to bodies that are not chat requests, without recording them', async () => {
    const { server } = await start({ script: [] });
    const base = server.url.replace(/\/v1$/, '');
    const post = (path: string, body: string) =>
      fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    const notFound = await post('/v1/embeddings', '{}');
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({
      error: {
        message: 'fake server: no route for POST /v1/embeddings; it only serves POST /v1/chat/completions',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });

    const badJson = await post('/v1/chat/completions', '{"model": ');
    expect(badJson.status).toBe(400);
    const badJsonBody = (await badJson.json()) as { error: { message: string } };
    expect(badJsonBody.error.message).toMatch(/^fake server: the request body is not valid JSON \(/);

    const noMessages = await post('/v1/chat/completions', '{"model":"m"}');
    expect(noMessages.status).toBe(400);
    expect(server.requests).toEqual([]);
  });

  it('keeps up with many concurrent requests at zero latency', async () => {
    const { server, client } = await start({ script: (request) => reply.text(`answer ${request.index}`) });

    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, position) =>
        client.chat.completions.create({ model: 'm', messages, stream: position % 2 === 0 }).then(async (result) =>
          'choices' in result
            ? result.choices[0]?.message.content
            : (await collect(result)).map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''),
        ),
      ),
    );

    expect(server.requests).toHaveLength(300);
    expect(new Set(answers).size).toBe(300);
    expect(server.requests.every((request) => request.completed && !request.aborted)).toBe(true);
  });
});
