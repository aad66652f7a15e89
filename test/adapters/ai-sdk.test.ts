import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs, streamText } from 'ai';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createAiSdkTools } from '../../src/adapters/ai-sdk.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { describeConversation, reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, RecordedRequest } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { LEAD, isLead, leadScript } from '../support/lead-script.js';
import { lookup } from '../support/sample-tools.js';

let server: FakeServer | undefined;
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime, server]);

const script = leadScript;

/** `@ai-sdk/openai-compatible`'s chat model, pointed at the fake server. */
const chatModel = (url: string) => createOpenAICompatible({ name: 'fake', baseURL: url, apiKey: 'test' }).chatModel('fake');

const delegationResults = (request: RecordedRequest) =>
  (JSON.parse(describeConversation(request).toolResults[0]!.content) as { results: Array<{ status: string; summary: string }> }).results.map((each) => [each.status, each.summary]);

describe('the AI SDK adapter', () => {
  it('lets generateText delegate a batch with stopWhen; the call is the parent of the subagents', async () => {
    server = await startFakeServer({ script });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake', tools: [lookup] });

    const { text, steps } = await generateText({
      model: chatModel(server.url),
      system: LEAD,
      prompt: 'Define alpha and beta.',
      tools: createAiSdkTools(runtime),
      stopWhen: stepCountIs(5),
      maxRetries: 0,
    });

    expect(steps).toHaveLength(2);
    expect(text).toContain('alpha means definition of alpha');
    const leadRequests = server.requests.filter(isLead);
    expect(leadRequests).toHaveLength(2);
    expect(delegationResults(leadRequests[1]!)).toEqual([
      ['completed', 'alpha means definition of alpha'],
      ['completed', 'beta means definition of beta'],
    ]);
    expect(runtime.list().map((handle) => [handle.parentId, handle.depth, handle.status])).toEqual([
      [null, 1, 'completed'],
      [null, 1, 'completed'],
    ]);
    // The model was offered the nine agent tools, with the descriptions stating the limits.
    const offered = leadRequests[0]!.body.tools ?? [];
    expect(offered.map((tool) => tool.function.name)).toEqual(Object.keys(createAiSdkTools(runtime)));
    expect(offered.find((tool) => tool.function.name === 'delegate_task')!.function.description).toContain('At most 3 of your subagents run at once');
  });

  it('works with streamText the same way', async () => {
    server = await startFakeServer({ script });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake', tools: [lookup] });

    const result = streamText({
      model: chatModel(server.url),
      system: LEAD,
      prompt: 'Define alpha and beta.',
      tools: createAiSdkTools(runtime, { tools: ['delegate_task', 'wait_agent'] }),
      stopWhen: stepCountIs(5),
      maxRetries: 0,
    });

    expect(await result.text).toContain('beta means definition of beta');
    expect(delegationResults(server.requests.filter(isLead)[1]!)).toEqual([
      ['completed', 'alpha means definition of alpha'],
      ['completed', 'beta means definition of beta'],
    ]);
    expect(server.requests.filter(isLead).every((request) => request.body.stream === true)).toBe(true);
  });

  it('passes a bad input on to the dispatcher, whose error the model reads', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) =>
        turn.lastRole === 'tool' ? reply.text(`Got: ${turn.toolResults[0]?.content}`) : reply.toolCall('delegate_task', { goal: 42, toolsets: 'read' }),
      ),
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake' });

    const { text } = await generateText({ model: chatModel(server.url), prompt: 'Delegate badly.', tools: createAiSdkTools(runtime), stopWhen: stepCountIs(3), maxRetries: 0 });

    const refusal = JSON.parse(describeConversation(server.requests[1]!).toolResults[0]!.content) as { ok: boolean; error: { code: string; field: string } };
    expect(refusal).toMatchObject({ ok: false, error: { code: 'bad_argument' } });
    expect(['goal', 'toolsets']).toContain(refusal.error.field);
    expect(text).toContain('"ok":false');
    expect(runtime.list()).toEqual([]);
  });

  it("stops the delegation when the call's abortSignal fires: the subagents are cancelled and their requests closed", async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) =>
        turn.systemText === LEAD ? reply.toolCall('delegate_task', { tasks: [{ goal: 'Define alpha' }, { goal: 'Define beta' }] }) : reply.hang(),
      ),
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake' });
    const controller = new AbortController();
    // Abort once both subagents' model requests are in flight.
    let childRequests = 0;
    server.onRequest((request) => {
      if (!isLead(request) && ++childRequests === 2) controller.abort();
    });
    let closedRequests = 0;
    const bothClosed = new Promise<void>((resolve) => server!.onAbort((request) => !isLead(request) && ++closedRequests === 2 && resolve()));

    await expect(
      generateText({ model: chatModel(server.url), system: LEAD, prompt: 'Define two words.', tools: createAiSdkTools(runtime), stopWhen: stepCountIs(3), maxRetries: 0, abortSignal: controller.signal }),
    ).rejects.toThrow();

    await bothClosed;
    const children = runtime.list();
    expect(children).toHaveLength(2);
    await runtime.wait(children.map((handle) => handle.id), { timeoutMs: 5_000 });
    expect(runtime.list().map((handle) => handle.status)).toEqual(['cancelled', 'cancelled']);
  });
});
