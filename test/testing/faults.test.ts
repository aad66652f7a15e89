import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { reply, type FakeServer, type RecordedRequest } from '../../src/testing/index.js';
import { useFakeServers } from '../support/fake-servers.js';
import { OPENAI_MAJOR } from '../support/openai-version.js';

const start = useFakeServers();

const messages = [{ role: 'user' as const, content: 'Hello there' }];

/** Reads a stream to its end; the chunks so far and the error, if it threw. */
async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks, error: null };
  } catch (error) {
    return { chunks, error };
  }
}

function nextAbort(server: FakeServer): Promise<RecordedRequest> {
  return new Promise((resolve) => {
    const unsubscribe = server.onAbort((request) => {
      unsubscribe();
      resolve(request);
    });
  });
}

describe('fake server faults', () => {
  it('resets a stream after the given chunks so that the iteration throws', async () => {
    const { server, client } = await start({ script: [reply.reset(2, { content: 'a long answer that never ends' })] });

    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    const { chunks, error } = await drain(stream);

    expect(error).toBeInstanceOf(Error);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['', 'a long answer th']);
    expect(server.requests[0]).toMatchObject({ completed: false, aborted: false });
  });

  it('resets before any byte with afterChunks 0, as a connection error', async () => {
    const { client } = await start({ script: [reply.reset(0), reply.reset(0)] });

    await expect(client.chat.completions.create({ model: 'm', messages, stream: true })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('cuts a stream in the middle of an SSE event so that the iteration throws', async () => {
    const { server, client } = await start({ script: [reply.cutMidChunk(2, { content: 'a long answer that never ends' })] });

    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    const { chunks, error } = await drain(stream);

    expect(error).toBeInstanceOf(Error);
    // The half event is never parsed into a chunk.
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['', 'a long answer th']);
    expect(server.requests[0]?.completed).toBe(false);
  });

  it('ends a stream cleanly in the middle of an SSE event, which openai 6 drops without an error and openai 7 reports', async () => {
    const { client } = await start({ script: [reply.cutMidChunk(2, { content: 'a long answer that never ends', close: 'end' })] });

    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    const { chunks, error } = await drain(stream);

    if (OPENAI_MAJOR === 6) expect(error).toBeNull();
    else expect(error).toMatchObject({ name: 'SyntaxError', message: expect.stringMatching(/malformed server-sent event/) as unknown });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['', 'a long answer th']);
    expect(chunks.every((chunk) => chunk.choices[0]?.finish_reason === null)).toBe(true);
  });

  it('cuts a non-streaming body mid-way under both closes', async () => {
    const { client } = await start({ script: [reply.cutMidChunk(1), reply.cutMidChunk(1, { close: 'end' })] });

    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toThrow('terminated');
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(SyntaxError);
  });

  it('trickles SSE comments after the content and never finishes, until the client aborts', async () => {
    const { server, client } = await start({ script: [reply.slowLoris({ intervalMs: 5, content: 'Thinking' })] });
    const aborted = nextAbort(server);
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true }, { signal: controller.signal });

    const chunks: ChatCompletionChunk[] = [];
    const reading = (async () => {
      for await (const chunk of stream) {
        chunks.push(chunk);
        // Once the content is in, only comments follow: abort from here.
        if (chunk.choices[0]?.delta.content === 'Thinking') controller.abort();
      }
    })();

    const record = await aborted;
    await reading;
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['', 'Thinking']);
    expect(record).toMatchObject({ aborted: true, completed: false });
  });

  it('trickles whitespace into a non-streaming body until the server closes', async () => {
    const { server, client } = await start({ script: [reply.slowLoris({ intervalMs: 5 })] });
    const call = client.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error);
    await server.waitForRequests(1);

    await server.close();

    expect(await call).toBeInstanceOf(Error);
    expect(server.requests[0]).toMatchObject({ completed: false, aborted: false });
  });

  it('adds a Retry-After header to a status fault', async () => {
    const { client } = await start({ script: [reply.status(429, { retryAfter: 15 })] });

    const error = await client.chat.completions.create({ model: 'm', messages }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(error instanceof OpenAI.RateLimitError)) throw new Error('expected a RateLimitError');
    expect(error.headers.get('retry-after')).toBe('15');
    expect(reply.status(503)).toEqual({ fault: 'status', status: 503 });
  });

  it('sends the scripted finish_reason, or none at all, streamed and not', async () => {
    const { client } = await start({
      script: [
        reply.text('cut by the limit', { finishReason: 'length' }),
        reply.text('no ending', { finishReason: null }),
        reply.text('filtered', { finishReason: 'content_filter' }),
        reply.text('no ending', { finishReason: null }),
      ],
    });

    const truncated = await client.chat.completions.create({ model: 'm', messages });
    const unfinished = await client.chat.completions.create({ model: 'm', messages });
    const filtered = await drain(await client.chat.completions.create({ model: 'm', messages, stream: true }));
    const endless = await drain(await client.chat.completions.create({ model: 'm', messages, stream: true }));

    expect(truncated.choices[0]?.finish_reason).toBe('length');
    expect(unfinished.choices[0]).not.toHaveProperty('finish_reason');
    expect(unfinished.choices[0]?.message.content).toBe('no ending');
    expect(filtered.chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(endless.error).toBeNull();
    expect(endless.chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual([]);
    expect(endless.chunks.map((chunk) => chunk.choices[0]?.delta.content).join('')).toBe('no ending');
  });
});
