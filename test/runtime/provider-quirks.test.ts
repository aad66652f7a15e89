/**
 * Every server shape of the "real providers" table, replayed through real
 * HTTP by the fake server's `quirks` fixtures, through the model loop: the
 * tool runs with the right arguments, thinking and usage are reported, and
 * what a server needs back is in the next request's body.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelOutputError } from '../../src/errors.js';
import { runModelLoop } from '../../src/model/model-loop.js';
import type { ModelLoopOptions } from '../../src/model/model-loop.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { quirks, reply } from '../../src/testing/index.js';
import type { RecordedRequest, Reply } from '../../src/testing/index.js';
import type { RunStats, Usage } from '../../src/types.js';
import { useFakeServers } from '../support/fake-servers.js';

const start = useFakeServers();

/** A run of the loop with a `read_file` tool that records the paths it was asked for. */
async function runLoop(script: Reply[] | ((request: RecordedRequest) => Reply), options: Partial<ModelLoopOptions> = {}) {
  const { server, client } = await start({ script: typeof script === 'function' ? script : [...script] });
  const paths: string[] = [];
  const readFile = defineTool({
    name: 'read_file',
    toolset: 'read',
    description: 'Reads a file.',
    parameters: z.object({ path: z.string() }),
    execute: ({ path }) => {
      paths.push(path);
      return `contents of ${path}`;
    },
  });
  const thinking: string[] = [];
  const usage: Usage[] = [];
  const stats: RunStats = { apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model: 'm', startedAt: performance.now() };
  const run = runModelLoop({
    client,
    model: 'm',
    history: [{ role: 'system', content: 'You read files.' }],
    input: 'Read the files.',
    tools: [readFile],
    maxIterations: 5,
    signal: new AbortController().signal,
    stats,
    toolContext: { handleId: 'h', depth: 1, cwd: process.cwd(), waitingFor: (work) => work },
    onThinkingDelta: (delta) => thinking.push(delta),
    onUsage: (counted) => usage.push(counted),
    maxRetries: 0,
    ...options,
  });
  return { server, run, paths, thinking, usage, stats };
}

/** The assistant message of the second request: the turn as the loop sent it back. */
function echoedTurn(request: RecordedRequest | undefined) {
  return request?.body.messages.find((message) => message.role === 'assistant');
}

const callA = { name: 'read_file', arguments: { path: 'a.md' }, id: 'call_a' };
const callB = { name: 'read_file', arguments: { path: 'b.md' }, id: 'call_b' };

describe('tool calls as each server streams them', () => {
  it('NVIDIA NIM, Fireworks, Kimi: a name repeated in every part is the name once, and the tool runs', async () => {
    const { server, run, paths } = await runLoop([quirks.repeatedToolName({ name: 'read_file', arguments: { path: 'docs/a-long-name.md' } }), reply.text('done')]);
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['docs/a-long-name.md']);
    expect(echoedTurn(server.requests[1])?.tool_calls).toEqual([
      { id: 'call_0', type: 'function', function: { name: 'read_file', arguments: '{"path":"docs/a-long-name.md"}' } },
    ]);
  });

  it('Ollama 0.20: parallel calls all at index 0 with distinct ids stay separate calls', async () => {
    const { server, run, paths } = await runLoop([quirks.parallelCallsAtIndexZero([callA, callB]), reply.text('done')]);
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md', 'b.md']);
    expect(echoedTurn(server.requests[1])?.tool_calls?.map((call) => call.id)).toEqual(['call_a', 'call_b']);
    const toolMessages = server.requests[1]!.body.messages.filter((message) => message.role === 'tool');
    expect(toolMessages.map((message) => message.tool_call_id)).toEqual(['call_a', 'call_b']);
  });

  it('Ollama < 0.4.7, Gemini 2.5: calls without index are told apart by their ids', async () => {
    const { run, paths } = await runLoop([quirks.toolCallsWithoutIndex([callA, callB]), reply.text('done')]);
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md', 'b.md']);
  });

  it('LiteLLM: calls numbered from index 1 are all run, in order', async () => {
    const { run, paths } = await runLoop([quirks.toolCallsFromIndexOne([callA, callB]), reply.text('done')]);
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md', 'b.md']);
  });

  it('Gemini 3: the thought signature on a streamed call goes back on that call (the server refuses the request without it)', async () => {
    const { server, run, paths } = await runLoop((request) => {
      if (request.index === 0) return quirks.thoughtSignatureToolCall(callA, 'c2lnbmF0dXJlLUE=');
      const call = echoedTurn(request)?.tool_calls?.[0] as { extra_content?: { google?: { thought_signature?: string } } } | undefined;
      // Gemini answers 400 when a function call of the conversation lacks its signature.
      if (call?.extra_content?.google?.thought_signature !== 'c2lnbmF0dXJlLUE=') return reply.status(400, { body: { error: { message: 'Function call is missing a thought_signature', code: 400 } } });
      return reply.text('done');
    });
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md']);
    expect(echoedTurn(server.requests[1])?.tool_calls?.[0]).toEqual({
      id: 'call_a',
      type: 'function',
      function: { name: 'read_file', arguments: '{"path":"a.md"}' },
      extra_content: { google: { thought_signature: 'c2lnbmF0dXJlLUE=' } },
    });
  });
});

describe('thinking', () => {
  /** DeepSeek refuses a conversation whose tool-calling assistant message lacks its reasoning_content. */
  const deepSeek = (request: RecordedRequest): Reply => {
    if (request.index === 0) return quirks.thinkingToolCall('I should read a.md first.', callA);
    if (typeof echoedTurn(request)?.reasoning_content !== 'string') {
      return reply.status(400, { body: { error: { message: 'Missing `reasoning_content` field in the assistant message', type: 'invalid_request_error' } } });
    }
    return reply.text('done');
  };

  it('DeepSeek thinking mode: the reasoning_content of a turn with tool calls goes back on its assistant message', async () => {
    const { server, run, paths, thinking } = await runLoop(deepSeek);
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md']);
    expect(thinking.join('')).toBe('I should read a.md first.');
    expect(echoedTurn(server.requests[1])).toMatchObject({ content: null, reasoning_content: 'I should read a.md first.' });
  });

  it('echoReasoning: false keeps the thinking out of the next request', async () => {
    const { server, run } = await runLoop(deepSeek, { echoReasoning: false });
    await expect(run).rejects.toThrow(/reasoning_content/);
    expect(echoedTurn(server.requests[1])).not.toHaveProperty('reasoning_content');
  });

  it('a stream sending both names, one empty, reports the thinking of the other', async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const both: Reply = { fault: 'raw', events: [chunk({ role: 'assistant', reasoning_content: '', reasoning: 'Let me see.' }), chunk({ content: 'done' }), chunk({}, 'stop'), 'data: [DONE]\n\n'] };
    const { run, thinking } = await runLoop([both]);
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(thinking).toEqual(['Let me see.']);
  });

  it.each(['reasoning_content', 'reasoning'] as const)('vLLM, DeepSeek, Ollama, OpenRouter, not streaming: message.%s becomes thinking', async (field) => {
    const { server, run, thinking } = await runLoop(
      [quirks.reasoningMessage({ field, reasoning: 'Thinking it over.', toolCalls: [callA] }), quirks.reasoningMessage({ field, reasoning: 'All read.', content: 'done' })],
      { stream: false },
    );
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(thinking).toEqual(['Thinking it over.', 'All read.']);
    expect(echoedTurn(server.requests[1])).toMatchObject({ [field]: 'Thinking it over.' });
  });
});

describe('whole responses', () => {
  it('Mistral: tool calls without `type` are function calls, and run', async () => {
    const { run, paths } = await runLoop([quirks.untypedToolCall(callA), reply.text('done')], { stream: false });
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md']);
  });

  it('fields a server adds to the assistant message are kept and sent back with it', async () => {
    const withExtra: Reply = {
      fault: 'raw',
      body: {
        id: 'chatcmpl-x',
        object: 'chat.completion',
        created: 0,
        model: 'm',
        choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, refusal: null, extra_content: { google: { note: 'kept' } }, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.md"}' } }] } }],
      },
    };
    const { server, run } = await runLoop([withExtra, reply.text('done')], { stream: false });
    await expect(run).resolves.toMatchObject({ text: 'done' });
    const echoed = echoedTurn(server.requests[1]);
    expect(echoed).toMatchObject({ extra_content: { google: { note: 'kept' } } });
    // What clients add to every message (`refusal: null`) is not sent back.
    expect(echoed).not.toHaveProperty('refusal');
  });

  it('llama.cpp (older builds): arguments sent as an object are the arguments', async () => {
    const { server, run, paths } = await runLoop([quirks.objectArguments(callA), reply.text('done')], { stream: false });
    await expect(run).resolves.toMatchObject({ text: 'done' });
    expect(paths).toEqual(['a.md']);
    expect(echoedTurn(server.requests[1])?.tool_calls?.[0]?.function.arguments).toBe('{"path":"a.md"}');
  });
});

describe('stream framing', () => {
  it('Groq (2024): usage only in x_groq.usage is counted', async () => {
    const { run, usage, stats } = await runLoop([quirks.groqUsage('All done here.', { promptTokens: 42, completionTokens: 7 })]);
    await expect(run).resolves.toMatchObject({ text: 'All done here.' });
    expect(usage).toEqual([{ inputTokens: 42, outputTokens: 7 }]);
    expect(stats.apiCalls).toBe(1);
  });

  it('OpenRouter: processing comments between chunks are skipped', async () => {
    const { run } = await runLoop([quirks.processingComments('The answer is forty-two.')]);
    await expect(run).resolves.toMatchObject({ text: 'The answer is forty-two.' });
  });

  it('OpenRouter: an error event in an HTTP 200 stream fails the turn as a model error, keeping the partial text', async () => {
    const { server, run } = await runLoop([quirks.midStreamError('The answer is', 'Provider disconnected unexpectedly'), reply.text('never asked')]);
    const error = await run.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelOutputError);
    expect(error).toMatchObject({ reason: 'model_error', partialOutput: 'The answer is' });
    expect((error as Error).message).toContain('Provider disconnected unexpectedly');
    expect(server.requests).toHaveLength(1);
  });

  it('Azure: a first chunk with no choices (prompt filter results only) is skipped', async () => {
    const { run } = await runLoop([quirks.filterResultsFirst('Filtered and fine.')]);
    await expect(run).resolves.toMatchObject({ text: 'Filtered and fine.' });
  });
});
