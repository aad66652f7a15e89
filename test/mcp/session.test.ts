import OpenAI from 'openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { AGENT_TOOL_NAMES, agentToolDefinitions, createAgentTools } from '../../src/agent-tools/agent-tools.js';
import { loadMcpSdk } from '../../src/mcp/sdk.js';
import { createMcpSession } from '../../src/mcp/session.js';
import type { McpSession } from '../../src/mcp/session.js';
import { createFileTools } from '../../src/toolkit/file-tools.js';
import { startTestModel } from './model.js';
import { answerOf, readJsonResource } from './processes.js';
import type { TestModel } from './model.js';

let model: TestModel;
let runtime: SubagentsRuntime;
let session: McpSession;
let client: Client;

beforeEach(async () => {
  model = await startTestModel();
  runtime = createRuntime({
    client: new OpenAI({ baseURL: model.server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' }),
    model: 'fake',
    tools: createFileTools({ root: process.cwd() }).tools,
  });
  session = createMcpSession(await loadMcpSdk(), runtime);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await session.server.connect(serverSide);
  client = new Client({ name: 'unit', version: '1.0.0' });
  await client.connect(clientSide);
});

afterEach(async () => {
  model.release();
  await client.close();
  await session.close();
  await runtime.shutdown();
  await model.server.close();
});

describe('an MCP session over a runtime', () => {
  it('lists the ten agent tools with the schemas and texts a model gets; delegate_task says it runs in the background', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([...AGENT_TOOL_NAMES]);
    const forModel = new Map(agentToolDefinitions(runtime, { handleId: null }).map((tool) => [tool.function.name, tool.function]));
    // The same tools, schemas and texts, but for the two settings an MCP client needs otherwise (background default, wait bound).
    for (const tool of tools.filter((candidate) => candidate.name !== 'delegate_task' && candidate.name !== 'wait_agent')) {
      expect(tool.inputSchema, tool.name).toEqual(forModel.get(tool.name)?.parameters);
      expect(tool.description, tool.name).toBe(forModel.get(tool.name)?.description);
    }
    const delegate = tools.find((tool) => tool.name === 'delegate_task')!;
    expect(delegate.description).toContain('At most 3 tasks per call');
    expect(delegate.description).toContain('background: true (the default here; pass background: false to wait for the results)');
    expect(delegate.description).toContain('subagents://delegations/{id}');
    const { background, ...properties } = delegate.inputSchema.properties as Record<string, { description?: string }>;
    const { background: modelBackground, ...modelProperties } = (forModel.get('delegate_task')?.parameters as { properties: Record<string, { description?: string }> }).properties;
    expect(properties).toEqual(modelProperties);
    expect(background?.description).toMatch(/Default: true/);
    expect(modelBackground?.description).toMatch(/Default: false/);
    const wait = tools.find((tool) => tool.name === 'wait_agent')!.inputSchema.properties as Record<string, { description?: string }>;
    expect(wait.timeout_ms?.description).toBe('How long to wait at most, in milliseconds, from 1000 to 50000 (other values are clamped). Default: 30000.');
    expect(tools.filter((tool) => tool.annotations?.readOnlyHint).map((tool) => tool.name)).toEqual(['wait_agent', 'list_agents', 'agent_status']);
  });

  it('delegate_task answers at once in the background, with the resource that publishes the result when it changes', async () => {
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => void updates.push(notification.params.uri));
    const answer = answerOf(await client.callTool({ name: 'delegate_task', arguments: { goal: 'hold the line' } }));
    expect(answer).toMatchObject({ ok: true, background: true, handleIds: [expect.any(String)] });
    const uri = `subagents://delegations/${String(answer.delegationId)}`;
    expect(answer.resource).toBe(uri);
    expect((await client.listResources()).resources.map((resource) => resource.uri)).toEqual([uri]);
    expect((await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate)).toEqual(['subagents://delegations/{id}']);

    const running = await readJsonResource(client, uri);
    expect(running).toMatchObject({ status: 'running', results: null, tasks: [{ goal: 'hold the line', status: 'running' }] });
    await client.subscribeResource({ uri });
    await model.request((request) => request.body.messages.some((message) => message.content === 'hold the line'));
    model.release();
    const waited = answerOf(await client.callTool({ name: 'wait_agent', arguments: { targets: answer.handleIds, timeout_ms: 10_000 } }));
    expect(waited).toMatchObject({ ok: true, timedOut: false, completed: [{ status: 'completed', lastOutput: 'listed for hold the line' }] });
    await expect.poll(() => updates.length, { timeout: 5_000 }).toBeGreaterThan(0);
    const done = await readJsonResource(client, uri);
    expect(done).toMatchObject({ status: 'done', results: [{ status: 'completed', summary: 'listed for hold the line' }] });
    expect(new Set(updates)).toEqual(new Set([uri]));
  });

  it('a foreground call waits for the result and reports progress to a client that gave a progress token', async () => {
    const progress: Array<{ progress: number; message?: string }> = [];
    const result = await client.callTool({ name: 'delegate_task', arguments: { goal: 'summarise', background: false } }, undefined, {
      onprogress: (update) => void progress.push(update),
    });
    expect(result.isError).toBe(false);
    expect(answerOf(result)).toMatchObject({ ok: true, background: false, results: [{ status: 'completed', summary: 'done: summarise' }] });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.map((update) => update.progress)).toEqual(progress.map((_, index) => index + 1));
    expect(progress.at(-1)?.message).toMatch(/^1 of 1 subagents done; sa_\S+ ended: completed$/);
  });

  it('the agent tools refuse a bad background option when they are made', () => {
    expect(() => createAgentTools(runtime, { backgroundByDefault: 'yes' as unknown as boolean })).toThrow('Expected `backgroundByDefault` to be a boolean, got string `yes`');
    expect(() => createAgentTools(runtime, { backgroundDelivery: ' ' })).toThrow('Expected `backgroundDelivery` to be a non-empty string');
  });

  it('a malformed call gives an isError result the model can read, and changes nothing', async () => {
    const result = await client.callTool({ name: 'delegate_task', arguments: { goal: 7, tasks: 'not json' } });
    expect(result.isError).toBe(true);
    expect(answerOf(result)).toMatchObject({ ok: false, error: { code: 'bad_argument' } });
    const unknown = await client.callTool({ name: 'agent_status', arguments: { target: 'sa_nobody' } });
    expect(unknown.isError).toBe(true);
    expect(answerOf(unknown)).toMatchObject({ ok: false, error: { code: 'unknown_handle', field: 'target' } });
    expect(runtime.list()).toEqual([]);
    await expect(client.readResource({ uri: 'subagents://delegations/dg_nope' })).rejects.toThrow(/Resource not found: expected subagents:\/\/delegations\/\{id\}/);
    await expect(client.subscribeResource({ uri: 'subagents://delegations/dg_nope' })).rejects.toThrow(/Resource not found/);
  });
});
