/**
 * One path from the model to a tool: the built-in loop runs every call through
 * the executor of `createToolDispatcher`, and whatever goes wrong the model
 * reads one error format, `{"ok":false,"error":{code,message,field?}}`: for a
 * tool that throws (an error, a bare value, an agent-tool error), a schema
 * check that throws, a call the run's end cut off, and after the loop ran out
 * of model calls.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ChatChunk, ChatClient, ChatRequest, ChatRequestOptions, ChatResponse } from '../../src/model/chat-client.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { runModelLoop } from '../../src/model/model-loop.js';
import { toolMessageThroughLoop } from '../support/loop-once.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import type { AnyTool } from '../../src/toolkit/define-tool.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { toolResultToString } from '../../src/toolkit/tool-arguments.js';
import { AgentToolError } from '../../src/toolkit/tool-error.js';
import { reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import type { RunStats } from '../../src/types.js';
import { closeAfterEach } from '../support/cleanup.js';

const tool = (name: string, execute: AnyTool['execute'], parameters: AnyTool['parameters'] = z.object({})): AnyTool =>
  defineTool({ name, toolset: 'misc', description: `The ${name} tool.`, parameters, execute });

/** Tools that fail every way a tool can, each with the arguments the model sends it. */
const failing: Array<[AnyTool, string]> = [
  [
    tool('throws_error', () => {
      throw new TypeError('kaput');
    }),
    '{}',
  ],
  [
    tool('throws_value', () => {
      // Deliberately not an Error: tools written by users throw anything.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw { reason: 'a bare object' };
    }),
    '{}',
  ],
  [
    tool(
      'throws_agent_error',
      () => {
        throw new AgentToolError('unknown_handle', 'target', 'Expected `target` to be one of your subagents, got `x`.');
      },
      z.object({ target: z.string() }),
    ),
    '{"target":"x"}',
  ],
  [
    tool(
      'refinement_throws',
      () => 'never reached',
      z.object({
        n: z.number().refine(() => {
          throw new Error('refinement exploded');
        }),
      }),
    ),
    '{"n":1}',
  ],
];

/** Tools that succeed with a value other than a string. */
const returning: Array<[AnyTool, unknown]> = [
  [tool('returns_object', () => ({ files: 2, size: 10n })), { files: 2, size: 10n }],
  [tool('returns_nothing', () => undefined), undefined],
  [tool('returns_number', () => 42), 42],
];

const newStats = (): RunStats => ({ apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model: 'fake', startedAt: performance.now() });

describe('the built-in loop and the dispatcher', () => {
  let server: FakeServer;
  let runtime: SubagentsRuntime;
  let next: { name: string; argumentsJson: string } = { name: '', argumentsJson: '' };
  const tools = [...failing.map(([each]) => each), ...returning.map(([each]) => each)];

  beforeAll(async () => {
    server = await startFakeServer({
      script: (request) => (request.body.messages.at(-1)?.role === 'tool' ? reply.text('noted') : reply.toolCall(next.name, next.argumentsJson)),
    });
    runtime = createRuntime({ run: async () => '' });
  });
  afterAll(async () => {
    await runtime.shutdown();
    await server.close();
  });

  /** The tool message the loop added for one scripted call. */
  async function throughLoop(name: string, argumentsJson: string): Promise<{ content: string; stats: RunStats }> {
    next = { name, argumentsJson };
    return toolMessageThroughLoop(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), tools, { handleId: null, depth: 0, cwd: process.cwd() });
  }

  it.each(failing.map(([each, argumentsJson]) => [each.name, argumentsJson] as const))(
    'a failing %s reaches the model as the same error JSON through both',
    async (name, argumentsJson) => {
      const dispatched = await createToolDispatcher(runtime, tools, { handleId: null, depth: 0 })(name, argumentsJson);
      const { content, stats } = await throughLoop(name, argumentsJson);
      expect(content).toBe(dispatched);
      const answer = JSON.parse(content) as { ok: boolean; error: { code: string; message: string } };
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toMatch(/^(tool_failed|unknown_handle|bad_argument)$/);
      expect(stats.toolTrace).toEqual([expect.objectContaining({ tool: name, ok: false, error: content })]);
    },
  );

  it('names the code and field of each kind of failure', async () => {
    const dispatch = createToolDispatcher(runtime, tools, { handleId: null, depth: 0 });
    const answers = await Promise.all(failing.map(async ([each, argumentsJson]) => JSON.parse(await dispatch(each.name, argumentsJson)) as unknown));
    expect(answers).toEqual([
      { ok: false, error: { code: 'tool_failed', message: 'TypeError: kaput' } },
      { ok: false, error: { code: 'tool_failed', message: 'The tool failed: {"reason":"a bare object"}' } },
      { ok: false, error: { code: 'unknown_handle', field: 'target', message: 'Expected `target` to be one of your subagents, got `x`.' } },
      { ok: false, error: { code: 'bad_argument', field: '(arguments)', message: expect.stringContaining('refinement exploded') as string } },
    ]);
  });

  it.each(returning.map(([each, value]) => [each.name, value] as const))('a successful %s reaches the loop as the tool\'s own text', async (name, value) => {
    const { content, stats } = await throughLoop(name, '{}');
    expect(content).toBe(toolResultToString(value));
    expect(stats.toolTrace).toEqual([expect.objectContaining({ tool: name, ok: true })]);
  });
});

describe('a call stopped by its run', () => {
  let server: FakeServer | undefined;
  let runtime: SubagentsRuntime | undefined;
  closeAfterEach(() => [runtime, server]);

  /** A tool that waits for its run to stop and then throws the signal's reason, as `signal.throwIfAborted()` does. */
  function waiting(started: () => void): AnyTool {
    return tool('wait_for_stop', (_args, { signal }) => {
      started();
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    });
  }

  it('reads `aborted` from the dispatcher whatever the signal\'s reason, before and during the call', async () => {
    runtime = createRuntime({ run: async () => '' });
    const stopped = new AbortController();
    stopped.abort('the user stopped it');
    const before = await createToolDispatcher(runtime, [waiting(() => undefined)], { handleId: null, depth: 0, signal: stopped.signal })('wait_for_stop', '{}');
    expect(JSON.parse(before)).toEqual({ ok: false, error: { code: 'aborted', message: 'The call was stopped because your run was interrupted, cancelled or closed.' } });

    const stop = new AbortController();
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const pending = createToolDispatcher(runtime, [waiting(markStarted)], { handleId: null, depth: 0, signal: stop.signal })('wait_for_stop', '{}');
    await started;
    stop.abort(new Error('stop now'));
    expect(JSON.parse(await pending)).toEqual(JSON.parse(before));
  });

  it('reads `aborted` in the root agent\'s kept conversation, for the call cut off and the call never started', async () => {
    server = await startFakeServer({
      script: [
        reply.toolCalls([
          { name: 'wait_for_stop', arguments: {} },
          { name: 'wait_for_stop', arguments: {} },
        ]),
      ],
    });
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake', tools: [waiting(markStarted)] });
    const stop = new AbortController();
    const pending = runtime.runAgent('Wait.', { signal: stop.signal });
    await started;
    stop.abort('the user stopped it');
    const answer = await pending;

    expect(answer.outcome).toBe('interrupted');
    const results = answer.messages.filter((message) => message.role === 'tool');
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(JSON.parse(result.content)).toEqual({ ok: false, error: { code: 'aborted', message: 'The call was stopped because your run was interrupted.' } });
    }
  });

  it('keeps the real results of the last turn when the loop runs out of model calls', async () => {
    server = await startFakeServer({ script: [reply.toolCall('answer_now', {})] });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }),
      model: 'fake',
      tools: [tool('answer_now', () => 'the real result')],
      maxIterations: 1,
    });
    const answer = await runtime.runAgent('Go.');
    expect(answer).toMatchObject({ outcome: 'error', exitReason: 'max_iterations', errorCode: 'max_iterations' });
    expect(answer.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(answer.messages.at(-1)).toMatchObject({ role: 'tool', content: 'the real result' });
  });
});

describe('the client', () => {
  /** A client of the `ChatClient` shape that is no `OpenAI` instance: it answers every request with one text. */
  function plainClient(text: string, requests: ChatRequest[]): ChatClient {
    function create(body: ChatRequest & { stream: false }, options: ChatRequestOptions): Promise<ChatResponse>;
    function create(body: ChatRequest & { stream: true; stream_options: { include_usage: boolean } }, options: ChatRequestOptions): Promise<AsyncIterable<ChatChunk>>;
    function create(body: ChatRequest & { stream: boolean }): Promise<ChatResponse | AsyncIterable<ChatChunk>> {
      // The loop goes on adding to the array it sent: keep the messages as they were sent.
      requests.push({ ...body, messages: [...body.messages] });
      if (!body.stream) return Promise.resolve({ choices: [{ message: { content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1 } });
      async function* chunks(): AsyncGenerator<ChatChunk> {
        yield { choices: [{ delta: { content: text } }] };
        yield { choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1 } };
      }
      return Promise.resolve(chunks());
    }
    return { chat: { completions: { create } } };
  }

  it.each([false, true])('may be any object of the ChatClient shape, not only an OpenAI instance (stream: %s)', async (stream) => {
    const requests: ChatRequest[] = [];
    const stats = newStats();
    const result = await runModelLoop({
      client: plainClient('hello from a plain client', requests),
      model: 'plain',
      history: [{ role: 'system', content: 'test' }],
      input: 'Hi.',
      tools: [],
      maxIterations: 1,
      signal: new AbortController().signal,
      stream,
      stats,
      toolContext: { handleId: null, depth: 0, cwd: process.cwd() },
    });
    expect(result.text).toBe('hello from a plain client');
    expect(requests).toEqual([expect.objectContaining({ model: 'plain', stream, messages: [{ role: 'system', content: 'test' }, { role: 'user', content: 'Hi.' }] })]);
    expect(stats.apiCalls).toBe(1);
  });
});
