import { Agent, OpenAIChatCompletionsModel, OpenAIProvider, run, setTracingDisabled } from '@openai/agents';
import type { Model } from '@openai/agents';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createOpenAIAgentsTools } from '../../src/adapters/openai-agents.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { agentToolDefinitions } from '../../src/agent-tools/agent-tools.js';
import { describeConversation, reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, RecordedRequest } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { LEAD, isLead, leadScript } from '../support/lead-script.js';
import { lookup } from '../support/sample-tools.js';

// The SDK's own tracing would try to export to OpenAI's servers.
setTracingDisabled(true);

let server: FakeServer | undefined;
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime, server]);

const script = leadScript;

/** The SDK's Chat Completions model over the real `openai` client it makes, pointed at the fake server. */
async function chatCompletionsModel(url: string): Promise<Model> {
  const model = await new OpenAIProvider({ baseURL: url, apiKey: 'test', useResponses: false }).getModel('fake');
  expect(model).toBeInstanceOf(OpenAIChatCompletionsModel);
  return model;
}

describe('the @openai/agents adapter', () => {
  it('lets an Agent on the Chat Completions model delegate a batch; its run is the parent of the subagents', async () => {
    server = await startFakeServer({ script });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake', tools: [lookup] });
    const lead = new Agent({ name: 'lead', instructions: LEAD, model: await chatCompletionsModel(server.url), tools: createOpenAIAgentsTools(runtime) });

    const result = await run(lead, 'Define alpha and beta.');

    const leadRequests = server.requests.filter(isLead);
    expect(leadRequests).toHaveLength(2);
    const toolResult = JSON.parse(describeConversation(leadRequests[1]!).toolResults[0]!.content) as { results: Array<{ status: string; summary: string }> };
    expect(toolResult.results.map((each) => [each.status, each.summary])).toEqual([
      ['completed', 'alpha means definition of alpha'],
      ['completed', 'beta means definition of beta'],
    ]);
    expect(result.finalOutput).toContain('alpha means definition of alpha');
    // The subagents are the root agent's: no parent handle, depth 1, each with only the tool it asked for.
    const handles = runtime.list();
    expect(handles.map((handle) => [handle.parentId, handle.depth, handle.status])).toEqual([
      [null, 1, 'completed'],
      [null, 1, 'completed'],
    ]);
    for (const request of server.requests.filter((request) => !isLead(request))) {
      expect((request.body.tools ?? []).map((tool) => tool.function.name)).toEqual(['lookup']);
    }
  });

  it('sends the model the definitions the built-in loop sends, limits read at each turn', async () => {
    server = await startFakeServer({ script: scriptByConversation(() => reply.text('Nothing to delegate.')) });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake', tools: [lookup] });
    const lead = new Agent({ name: 'lead', instructions: LEAD, model: await chatCompletionsModel(server.url), tools: createOpenAIAgentsTools(runtime) });

    await run(lead, 'Hello.');
    runtime.setLimits({ maxConcurrentChildren: 7 });
    await run(lead, 'Hello again.');

    const [before, after] = server.requests.map((request) => request.body.tools ?? []);
    const ownLoop = (definitions: ReturnType<typeof agentToolDefinitions>) =>
      definitions.map((definition) => ({ name: definition.function.name, description: definition.function.description, parameters: definition.function.parameters }));
    const sent = (tools: NonNullable<RecordedRequest['body']['tools']>) =>
      tools.map((tool) => ({ name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters }));
    // After setLimits, the runtime's own definitions say 7; the adapter's second request says the same.
    expect(sent(after!)).toEqual(ownLoop(agentToolDefinitions(runtime, { handleId: null })));
    expect(sent(after!).find((tool) => tool.name === 'delegate_task')!.description).toContain('At most 7 of your subagents run at once');
    expect(sent(before!).find((tool) => tool.name === 'delegate_task')!.description).toContain('At most 3 of your subagents run at once');
  });

  it("answers a bad call with the dispatcher's error for the model to read, and changes nothing", async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) =>
        turn.lastRole === 'tool' ? reply.text(`Got: ${turn.toolResults[0]?.content}`) : reply.toolCall('delegate_task', { tasks: 'not json [' }),
      ),
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake' });
    const lead = new Agent({ name: 'lead', instructions: LEAD, model: await chatCompletionsModel(server.url), tools: createOpenAIAgentsTools(runtime, { tools: ['delegate_task'] }) });

    await run(lead, 'Delegate badly.');

    const refusal = JSON.parse(describeConversation(server.requests[1]!).toolResults[0]!.content) as { ok: boolean; error: { code: string; field: string; message: string } };
    expect(refusal).toMatchObject({ ok: false, error: { code: 'bad_argument', field: 'tasks' } });
    expect(refusal.error.message).toMatch(/expected an array of task objects; a string came and it is not valid JSON/);
    expect(runtime.list()).toEqual([]);
    // Only the tool asked for was offered.
    expect((server.requests[0]!.body.tools ?? []).map((tool) => tool.function.name)).toEqual(['delegate_task']);
  });

  it('refuses what is not a runtime, and a tool name it does not know, with a clear error', () => {
    expect(() => createOpenAIAgentsTools({} as Runtime)).toThrow(/Expected `runtime` to be a runtime from createRuntime\(\)/);
    runtime = createRuntime({ run: async () => 'x' });
    expect(() => createOpenAIAgentsTools(runtime!, { tools: ['delegate'] as never })).toThrow(/Expected `tools\[0\]` to be one of delegate_task, spawn_agent/);
  });
});
