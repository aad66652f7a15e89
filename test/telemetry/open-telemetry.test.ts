import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { generateText, stepCountIs } from 'ai';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createAiSdkTools } from '../../src/adapters/ai-sdk.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { GEN_AI_SEMCONV_VERSION, openTelemetry } from '../../src/telemetry/index.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { allAttributeText, shapeOf, spanForest, useTracing } from '../support/span-tree.js';
import type { Shape } from '../support/span-tree.js';

const { provider, exporter } = useTracing();

let server: FakeServer | undefined;
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime, server]);

const API_KEY = 'sk-test-0123456789abcdefghij';
const PROMPT = 'Define the words alpha and beta (prompt-marker-5521)';
const usage = (promptTokens: number, completionTokens: number) => ({ usage: { promptTokens, completionTokens } });

/** A read tool that opens a span of its own, as an instrumented library would: it must nest under our tool span. */
const lookup = defineTool({
  name: 'lookup',
  toolset: 'read',
  description: 'Looks a word up.',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => {
    provider.getTracer('app').startSpan('app lookup').end();
    return `definition of ${word} (output-marker-7731)`;
  },
});

/** The root delegates one batch of two; each child looks its word up, then answers. */
const delegatingScript = scriptByConversation((turn) => {
  if (turn.toolNames.includes('delegate_task')) {
    return turn.lastRole === 'tool'
      ? reply.text('Both words are defined.', usage(40, 6))
      : reply.toolCall('delegate_task', { tasks: [{ goal: 'Define alpha', toolsets: ['read'] }, { goal: 'Define beta', toolsets: ['read'] }] }, { ...usage(30, 12), id: 'call_root_1' });
  }
  const word = /Define (\w+)/.exec(turn.lastUserText)?.[1] ?? '?';
  return turn.lastRole === 'tool' ? reply.text(`${word}: ${turn.toolResults[0]?.content}`, usage(20, 5)) : reply.toolCall('lookup', { word }, usage(10, 3));
});

const finished = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (prefix: string) => finished().filter((span) => span.name.startsWith(prefix));
const child = (name: string) => (/^invoke_agent sa_/.test(name) ? 'invoke_agent <child>' : name);

/** Resolves at the next event of this type. */
const nextEvent = <T extends RuntimeEvent['type']>(target: Runtime, type: T) =>
  new Promise<Extract<RuntimeEvent, { type: T }>>((resolve) => {
    const stop = target.subscribe((event) => {
      if (event.type !== type) return;
      stop();
      resolve(event as Extract<RuntimeEvent, { type: T }>);
    });
  });

describe('OpenTelemetry spans', () => {
  it('trace a root agent that delegates a batch as one tree: run, model calls, tool calls, the children under delegate_task', async () => {
    server = await startFakeServer({ script: delegatingScript });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 }),
      model: 'fake',
      tools: [lookup],
      telemetry: openTelemetry({ tracerProvider: provider }),
    });
    const answer = await runtime.runAgent(PROMPT);
    expect(answer.outcome).toBe('completed');

    const roots = spanForest(finished());
    expect(roots).toHaveLength(1);
    const childRun: Shape = ['invoke_agent <child>', [['chat fake', []], ['execute_tool lookup', [['app lookup', []]]], ['chat fake', []]]];
    expect(shapeOf(roots[0]!, child)).toEqual([
      'invoke_agent root',
      [['chat fake', []], ['execute_tool delegate_task', [childRun, childRun]], ['chat fake', []]],
    ]);
    // One trace.
    expect(new Set(finished().map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  it('nest a child that waited for a run slot under the delegate_task that spawned it, not under whatever freed the slot', async () => {
    // One run at a time: the foreground child of the second delegate_task waits for the background child of the first.
    let releaseAlpha = () => {};
    const alphaReleased = new Promise<void>((resolve) => (releaseAlpha = resolve));
    server = await startFakeServer({
      script: scriptByConversation(async (turn) => {
        if (turn.toolNames.includes('delegate_task')) {
          if (turn.assistantTurns === 0) return reply.toolCall('delegate_task', { goal: 'Define alpha', background: true }, { id: 'call_background' });
          if (turn.assistantTurns === 1) return reply.toolCall('delegate_task', { goal: 'Define beta' }, { id: 'call_foreground' });
          return reply.text('done');
        }
        if (turn.lastUserText === 'Define alpha') await alphaReleased;
        return reply.text(`${turn.lastUserText}: a word`);
      }),
    });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 }),
      model: 'fake',
      maxConcurrentRuns: 1,
      telemetry: openTelemetry({ tracerProvider: provider }),
    });
    runtime.subscribe((event) => {
      if (event.type === 'handle-spawn' && event.goal === 'Define beta') releaseAlpha();
    });
    const answer = await runtime.runAgent(PROMPT);
    expect(answer.outcome).toBe('completed');
    const toolSpan = (callId: string) => named('execute_tool delegate_task').find((span) => span.attributes['gen_ai.tool.call.id'] === callId)!;
    const runOf = (goal: string) => {
      const handle = runtime!.list().find((each) => each.goal === goal)!;
      return named(`invoke_agent ${handle.id}`)[0]!;
    };
    expect(runOf('Define alpha').parentSpanContext?.spanId).toBe(toolSpan('call_background').spanContext().spanId);
    expect(runOf('Define beta').parentSpanContext?.spanId).toBe(toolSpan('call_foreground').spanContext().spanId);
  });

  it("put a framework's delegation in the framework's trace: the adapter's delegate_task span under the AI SDK's tool call, the children under it", async () => {
    server = await startFakeServer({ script: delegatingScript });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 }),
      model: 'fake',
      tools: [lookup],
      telemetry: openTelemetry({ tracerProvider: provider }),
    });
    await generateText({
      model: createOpenAICompatible({ name: 'fake', baseURL: server.url, apiKey: API_KEY }).chatModel('fake'),
      prompt: PROMPT,
      tools: createAiSdkTools(runtime),
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      experimental_telemetry: { isEnabled: true, tracer: provider.getTracer('ai'), recordInputs: false, recordOutputs: false },
    });
    const [delegateTask] = named('execute_tool delegate_task');
    expect(delegateTask!.attributes['gen_ai.tool.call.id']).toBe('call_root_1');
    const [aiToolCall] = finished().filter((span) => span.name === 'ai.toolCall');
    expect(delegateTask!.parentSpanContext?.spanId).toBe(aiToolCall!.spanContext().spanId);
    const childRuns = named('invoke_agent sa_');
    expect(childRuns).toHaveLength(2);
    for (const span of childRuns) expect(span.parentSpanContext?.spanId).toBe(delegateTask!.spanContext().spanId);
    expect(new Set(finished().map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  it('carry the GenAI attributes, the outcome as status, and no prompt, output or key', async () => {
    server = await startFakeServer({ script: delegatingScript });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 }),
      model: 'fake',
      tools: [lookup],
      telemetry: openTelemetry({ tracerProvider: provider }),
    });
    await runtime.runAgent(PROMPT);
    const children = runtime.list();
    expect(children).toHaveLength(2);

    const [root] = named('invoke_agent root');
    expect(root!.kind).toBe(SpanKind.INTERNAL);
    expect(root!.status.code).toBe(SpanStatusCode.OK);
    expect(root!.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'openai',
      'gen_ai.agent.name': 'root',
      'gen_ai.request.model': 'fake',
      'gen_ai.usage.input_tokens': 70,
      'gen_ai.usage.output_tokens': 18,
      'subagents.outcome': 'completed',
      'subagents.api_calls': 2,
      'subagents.depth': 0,
    });

    const childRuns = named('invoke_agent sa_');
    expect(childRuns.map((span) => span.attributes['gen_ai.agent.id']).sort()).toEqual(children.map((handle) => handle.id).sort());
    for (const span of childRuns) {
      expect(span.status.code).toBe(SpanStatusCode.OK);
      expect(span.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.conversation.id': span.attributes['gen_ai.agent.id'],
        'gen_ai.request.model': 'fake',
        'gen_ai.usage.input_tokens': 30,
        'gen_ai.usage.output_tokens': 8,
        'subagents.depth': 1,
        'subagents.run_id': 1,
        'subagents.outcome': 'completed',
        'subagents.agent_type': 'general',
      });
      // Children of the root agent: no parent handle.
      expect(span.attributes['subagents.parent_id']).toBeUndefined();
    }

    const chats = named('chat ');
    expect(chats).toHaveLength(6);
    const port = Number(new URL(server.url).port);
    for (const span of chats) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.status.code).toBe(SpanStatusCode.OK);
      expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'fake', 'server.address': '127.0.0.1', 'server.port': port });
      expect(typeof span.attributes['gen_ai.usage.input_tokens']).toBe('number');
    }
    expect(chats.map((span) => (span.attributes['gen_ai.response.finish_reasons'] as string[])[0]).sort()).toEqual(['stop', 'stop', 'stop', 'tool_calls', 'tool_calls', 'tool_calls']);

    const [delegateTask] = named('execute_tool delegate_task');
    expect(delegateTask!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'delegate_task', 'gen_ai.tool.type': 'function', 'gen_ai.tool.call.id': 'call_root_1' });
    expect(delegateTask!.status.code).toBe(SpanStatusCode.OK);

    // Nothing the user, the model or a tool wrote, and no key: only the shape of the work.
    const text = allAttributeText(finished());
    for (const secret of [API_KEY, 'prompt-marker-5521', 'output-marker-7731', 'Define alpha', 'Both words are defined']) expect(text).not.toContain(secret);
    expect(GEN_AI_SEMCONV_VERSION).toMatch(/^1\.\d+\.\d+$/);
  });

  it('record the content when asked to, keys redacted even then', async () => {
    server = await startFakeServer({ script: delegatingScript });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 }),
      model: 'fake',
      tools: [lookup],
      telemetry: openTelemetry({ tracerProvider: provider, recordContent: true }),
    });
    await runtime.runAgent(`${PROMPT} with key ${API_KEY}`);
    const [root] = named('invoke_agent root');
    const input = JSON.parse(root!.attributes['gen_ai.input.messages'] as string) as Array<{ role: string; parts: Array<{ content: string }> }>;
    expect(input[0]!.role).toBe('user');
    expect(input[0]!.parts[0]!.content).toContain('prompt-marker-5521');
    expect(root!.attributes['gen_ai.output.messages']).toContain('Both words are defined.');
    const [lookupSpan] = named('execute_tool lookup');
    expect(lookupSpan!.attributes['gen_ai.tool.call.arguments']).toMatch(/"word":"(alpha|beta)"/);
    expect(lookupSpan!.attributes['gen_ai.tool.call.result']).toContain('output-marker-7731');
    expect(allAttributeText(finished())).not.toContain(API_KEY);
    expect(root!.attributes['gen_ai.input.messages']).toContain('[redacted]');
  });

  it('end a failed child as ERROR with its error type, its siblings unaffected', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        if (turn.toolNames.includes('delegate_task')) {
          return turn.lastRole === 'tool' ? reply.text('One failed.') : reply.toolCall('delegate_task', { tasks: [{ goal: 'Define alpha' }, { goal: 'Fail now' }] });
        }
        return turn.lastUserText.includes('Fail now') ? reply.status(500) : reply.text('alpha is a letter');
      }),
    });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 }),
      model: 'fake',
      maxRetries: 0,
      telemetry: openTelemetry({ tracerProvider: provider }),
    });
    await runtime.runAgent('Define alpha, and fail.');
    const childRuns = named('invoke_agent sa_');
    const failed = childRuns.filter((span) => span.status.code === SpanStatusCode.ERROR);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attributes).toMatchObject({ 'subagents.outcome': 'error', 'error.type': 'model_request' });
    expect(failed[0]!.status.message).toMatch(/500/);
    const [failedChat] = spanForest(finished())
      .flatMap(function walk(node): typeof node[] {
        return [node, ...node.children.flatMap(walk)];
      })
      .filter((node) => node.span === failed[0])
      .map((node) => node.children[0]!.span);
    expect(failedChat!.name).toBe('chat fake');
    expect(failedChat!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failedChat!.attributes['error.type']).toBe('model_request');
    expect(childRuns.filter((span) => span.status.code === SpanStatusCode.OK)).toHaveLength(1);
  });

  it("end a run at its limit (outcome timeout) even while its work ignores the signal; your run function's spans nest under it", async () => {
    runtime = createRuntime({
      childTimeoutMs: 50,
      telemetry: openTelemetry({ tracerProvider: provider }),
      run: (input) => {
        provider.getTracer('app').startSpan(`app work on ${input}`).end();
        return new Promise<string>(() => {});
      },
    });
    const ended = nextEvent(runtime, 'run-end');
    const handle = runtime.spawn({ message: 'stuck', name: 'stuck-one' });
    expect((await ended).outcome).toBe('timeout');
    const [run] = named('invoke_agent stuck-one');
    expect(run!.status.code).toBe(SpanStatusCode.ERROR);
    expect(run!.attributes).toMatchObject({ 'gen_ai.agent.id': handle.id, 'subagents.outcome': 'timeout', 'error.type': 'timeout' });
    const [work] = named('app work on stuck');
    expect(work!.parentSpanContext?.spanId).toBe(run!.spanContext().spanId);
  });

  it('leave an interrupted run without error status, its outcome in an attribute', async () => {
    runtime = createRuntime({
      telemetry: openTelemetry({ tracerProvider: provider }),
      run: (_input, { signal }) => new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    });
    const started = nextEvent(runtime, 'run-start');
    const ended = nextEvent(runtime, 'run-end');
    const handle = runtime.spawn({ message: 'long job' });
    await started;
    runtime.interrupt(handle.id);
    expect((await ended).outcome).toBe('interrupted');
    const [run] = named('invoke_agent sa_');
    expect(run!.status.code).toBe(SpanStatusCode.UNSET);
    expect(run!.attributes['subagents.outcome']).toBe('interrupted');
  });

  it('use the tracer provider the host registered globally when none is given', async () => {
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      runtime = createRuntime({ telemetry: openTelemetry(), run: async (input) => `echo ${input}` });
      const ended = nextEvent(runtime, 'run-end');
      runtime.spawn({ message: 'hello', name: 'global-one' });
      await ended;
      expect(named('invoke_agent global-one')).toHaveLength(1);
    } finally {
      trace.disable();
    }
  });

  it('refuse a bad telemetry option or tracer option with a clear error', () => {
    expect(() => createRuntime({ run: async () => 'x', telemetry: {} as never })).toThrow(/Expected `telemetry` to be a tracer from openTelemetry\(\)/);
    expect(() => openTelemetry({ recordContent: 'yes' as never })).toThrow(/Expected `recordContent` to be a boolean, got string `yes`/);
    expect(() => openTelemetry({ tracerProvider: {} as never })).toThrow(/Expected `tracerProvider` to be an OpenTelemetry TracerProvider/);
  });
});
