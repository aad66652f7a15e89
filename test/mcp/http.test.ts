import { request as httpRequest } from 'node:http';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectFixture } from '../cli/fixture.js';
import { fromGoal, startTestModel } from './model.js';
import type { TestModel } from './model.js';
import { answerOf, connectHttp, readJsonResource, serverEnv, startHttpServer } from './processes.js';
import type { HttpServerProcess } from './processes.js';

let model: TestModel;
let fixture: ReturnType<typeof createProjectFixture>;
let server: HttpServerProcess;
let keeping: HttpServerProcess;

beforeAll(async () => {
  model = await startTestModel();
  fixture = createProjectFixture();
  const env = serverEnv({ OPENAI_BASE_URL: model.server.url, OPENAI_API_KEY: 'sk-http-test-key-0123456789' });
  [server, keeping] = await Promise.all([
    startHttpServer(['--model', 'fake'], env, fixture.dir),
    startHttpServer(['--model', 'fake', '--keep-handles', '--token', 'a-token-given-by-flag-0001'], env, fixture.dir),
  ]);
}, 30_000);

afterAll(async () => {
  model?.release();
  const codes = await Promise.all([server?.stop(), keeping?.stop()]);
  await model?.server.close();
  fixture?.remove();
  expect(codes).toEqual([0, 0]);
});

/** A raw POST of an initialize request, with the headers given. */
function rawInitialize(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('subagents mcp --http, in a real process', () => {
  it('refuses a foreign Host or Origin with 403 and a missing or wrong token with 401; takes the right one', async () => {
    const port = new URL(server.url).port;
    const bearer = { authorization: `Bearer ${server.token}` };
    expect(await rawInitialize(server.url, { ...bearer, host: `evil.example:${port}` })).toMatchObject({ status: 403, body: expect.stringMatching(/expected a loopback Host/) as string });
    expect(await rawInitialize(server.url, { ...bearer, origin: 'https://evil.example' })).toMatchObject({ status: 403, body: expect.stringMatching(/expected no Origin or a loopback one/) as string });
    expect(await rawInitialize(server.url, { ...bearer, origin: 'null' })).toMatchObject({ status: 403 });
    expect(await rawInitialize(server.url, {})).toMatchObject({ status: 401, body: expect.stringMatching(/Authorization: Bearer <token>/) as string });
    expect(await rawInitialize(server.url, { authorization: `Bearer ${server.token}x` })).toMatchObject({ status: 401 });
    expect(await rawInitialize(server.url, { authorization: `Bearer ${keeping.token}` })).toMatchObject({ status: 401 });
    expect(await rawInitialize(server.url.replace('/mcp', '/other'), bearer)).toMatchObject({ status: 404 });
    const accepted = await rawInitialize(server.url, { ...bearer, origin: `http://localhost:${port}`, host: `localhost:${port}` });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toContain('"serverInfo":{"name":"subagents"');
    expect(server.stderr()).not.toContain('sk-http-test-key');
  });

  it('serves the tools: background by default with the resource and its update, foreground with progress, wait_agent', { timeout: 30_000 }, async () => {
    const { client, transport } = await connectHttp(server);
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => void updates.push(notification.params.uri));
    expect((await client.listTools()).tools).toHaveLength(10);

    const started = answerOf(await client.callTool({ name: 'delegate_task', arguments: { goal: 'hold for the resource test' } }));
    expect(started).toMatchObject({ ok: true, background: true, resource: `subagents://delegations/${String(started.delegationId)}` });
    const uri = started.resource as string;
    await client.subscribeResource({ uri });
    await model.request(fromGoal('hold for the resource test'));
    model.release();

    const progress: Array<{ progress: number; message?: string }> = [];
    const foreground = await client.callTool({ name: 'delegate_task', arguments: { goal: 'quick answer', background: false } }, undefined, {
      onprogress: (update) => void progress.push(update),
      resetTimeoutOnProgress: true,
    });
    expect(answerOf(foreground)).toMatchObject({ ok: true, results: [{ status: 'completed', summary: 'done: quick answer' }] });
    // The last notification can be lost by the SDK's client when it is read with the answer (see stdio.test.ts); the first arrives.
    expect(progress[0]?.message).toMatch(/^0 of 1 subagents done; sa_\S+ started: quick answer$/);
    expect(progress.map((update) => update.progress)).toEqual([...progress.map((update) => update.progress)].sort((a, b) => a - b));

    const waited = answerOf(await client.callTool({ name: 'wait_agent', arguments: { targets: started.handleIds, timeout_ms: 20_000 } }));
    expect(waited).toMatchObject({ ok: true, timedOut: false, completed: [{ status: 'completed', lastOutput: 'listed for hold for the resource test' }] });
    await expect.poll(() => updates.filter((update) => update === uri).length, { timeout: 5_000 }).toBeGreaterThan(0);
    const resource = await readJsonResource(client, uri);
    expect(resource).toMatchObject({ status: 'done', results: [{ status: 'completed', summary: 'listed for hold for the resource test' }] });

    const malformed = await client.callTool({ name: 'wait_agent', arguments: { targets: [42] } });
    expect(malformed.isError).toBe(true);
    expect(answerOf(malformed)).toMatchObject({ ok: false, error: { code: 'bad_argument' } });
    await transport.terminateSession();
    await client.close();
  });

  it('each session is its own root agent: it sees only its own handles and delegations', { timeout: 30_000 }, async () => {
    const first = await connectHttp(server);
    const second = await connectHttp(server);
    const mine = answerOf(await first.client.callTool({ name: 'delegate_task', arguments: { goal: 'the first session task', background: false } }));
    const [handleId] = (mine.results as Array<{ handleId: string }>).map((result) => result.handleId);
    expect(answerOf(await first.client.callTool({ name: 'list_agents', arguments: {} }))).toMatchObject({ ok: true, total: 1 });

    expect(answerOf(await second.client.callTool({ name: 'list_agents', arguments: {} }))).toMatchObject({ ok: true, total: 0, agents: [] });
    const status = await second.client.callTool({ name: 'agent_status', arguments: { target: handleId } });
    expect(status.isError).toBe(true);
    expect(answerOf(status)).toMatchObject({ ok: false, error: { code: 'unknown_handle', message: expect.stringContaining('you have spawned none') as string } });
    expect(answerOf(await second.client.callTool({ name: 'close_agent', arguments: { target: handleId } }))).toMatchObject({ ok: false, error: { code: 'unknown_handle' } });
    expect((await second.client.listResources()).resources).toEqual([]);
    await expect(second.client.readResource({ uri: mine.resource as string })).rejects.toThrow(/Resource not found/);
    expect(answerOf(await first.client.callTool({ name: 'agent_status', arguments: { target: handleId } }))).toMatchObject({ ok: true, handle: { id: handleId, status: 'completed' } });

    for (const { client, transport } of [first, second]) {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('a session that ends closes its subagents: the model request in flight is aborted', { timeout: 30_000 }, async () => {
    const { client, transport } = await connectHttp(server);
    const started = answerOf(await client.callTool({ name: 'delegate_task', arguments: { goal: 'hang until the session ends' } }));
    expect(started).toMatchObject({ ok: true, background: true });
    const request = await model.request(fromGoal('hang until the session ends'));
    await transport.terminateSession();
    await model.aborted(request);
    await client.close();
    // The session is gone: its id is refused.
    const gone = await rawInitialize(server.url, { authorization: `Bearer ${server.token}`, 'mcp-session-id': String(transport.sessionId ?? 'ended') });
    expect(gone.status).toBe(404);
  });

  it('with --keep-handles, a session that ends leaves its subagents running to their end', { timeout: 30_000 }, async () => {
    expect(keeping.token).toBe('a-token-given-by-flag-0001');
    expect(keeping.stderr()).toContain('bearer token: the one from --token');
    expect(keeping.stderr()).not.toContain('a-token-given-by-flag-0001');
    const { client, transport } = await connectHttp(keeping);
    answerOf(await client.callTool({ name: 'delegate_task', arguments: { goal: 'hold past the end of the session' } }));
    const first = await model.request(fromGoal('hold past the end of the session'));
    await transport.terminateSession();
    await client.close();
    model.release();
    // The run goes on: its next model call carries the tool result.
    const next = await model.request((request) => fromGoal('hold past the end of the session')(request) && request.body.messages.some((message) => message.role === 'tool'));
    expect(next.index).toBeGreaterThan(first.index);
    expect(first.aborted).toBe(false);
  });
});
