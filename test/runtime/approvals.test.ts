import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime, RuntimeOptions } from '../../src/agent/create-runtime.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { BadArgumentError } from '../../src/errors.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { reply, scriptByConversation } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { useFakeServers } from '../support/fake-servers.js';

type ApprovalRequestEvent = Extract<RuntimeEvent, { type: 'approval-request' }>;
type ApprovalEndEvent = Extract<RuntimeEvent, { type: 'approval-end' }>;

const fakeServer = useFakeServers();
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime]);

/** A key long enough to be redacted wherever it shows. */
const API_KEY = 'key-for-approvals-test-0123456789';

/** A tool that needs approval and records what it was run with. */
function removeFileTool(needsApproval: boolean | ((args: { path: string }) => boolean) = true) {
  const removed: string[] = [];
  const tool = defineTool({
    name: 'remove_file',
    toolset: 'write',
    description: 'Remove a file.',
    parameters: z.object({ path: z.string(), note: z.string().optional() }),
    needsApproval,
    execute: ({ path }) => {
      removed.push(path);
      return `removed ${path}`;
    },
  });
  return { tool, removed };
}

/** The model calls `remove_file` once, then answers with what the tool said. */
const removeThenReport = (args: object = { path: 'a.txt' }) =>
  scriptByConversation((turn) =>
    turn.lastRole === 'tool' ? reply.text(`tool said: ${turn.toolResults[0]?.content ?? ''}`) : reply.toolCall('remove_file', args),
  );

async function setUp(options: Partial<RuntimeOptions>, args?: object): Promise<{ server: FakeServer; events: RuntimeEvent[]; removed: string[] }> {
  const { server } = await fakeServer({ script: removeThenReport(args) });
  const { tool, removed } = removeFileTool();
  const { OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0, logLevel: 'off' });
  runtime = createRuntime({ client, model: 'fake-model', tools: [tool], ...options });
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  return { server, events, removed };
}

/** Resolves with the first event of a type (and predicate) the runtime emits from now on. */
function nextEvent<T extends RuntimeEvent['type']>(target: Runtime, type: T, matches: (event: Extract<RuntimeEvent, { type: T }>) => boolean = () => true) {
  return new Promise<Extract<RuntimeEvent, { type: T }>>((resolve) => {
    const stop = target.subscribe((event) => {
      if (event.type === type && matches(event as Extract<RuntimeEvent, { type: T }>)) {
        stop();
        resolve(event as Extract<RuntimeEvent, { type: T }>);
      }
    });
  });
}

/** The tool result the model received, read from the request that followed the call. */
function toolResultSeen(server: FakeServer): { ok: boolean; error?: { code: string; message: string } } | string {
  const last = server.requests.at(-1)!.body.messages.at(-1)!;
  expect(last.role).toBe('tool');
  const content = typeof last.content === 'string' ? last.content : '';
  try {
    return JSON.parse(content) as { ok: boolean; error?: { code: string; message: string } };
  } catch {
    return content;
  }
}

const endsOf = (events: RuntimeEvent[]) => events.filter((event): event is ApprovalEndEvent => event.type === 'approval-end');

describe('approvals that reach the host', () => {
  it('granted with approve(): the run waits, running, with awaitingApproval in its snapshot, then the tool runs', async () => {
    const { server, events, removed } = await setUp({ onApproval: 'events' }, { path: 'a.txt', note: `uses ${API_KEY}` });
    const asked = nextEvent(runtime!, 'approval-request');
    const delegation = runtime!.delegate({ goal: 'clean up a.txt' });
    const request: ApprovalRequestEvent = await asked;
    const [handleId] = delegation.handleIds;

    expect(request).toMatchObject({ handleId, parentId: null, depth: 1, goal: 'clean up a.txt', model: 'fake-model', runId: 1, tool: 'remove_file' });
    // The host sees the arguments, keys redacted.
    expect(request.arguments).toEqual({ path: 'a.txt', note: 'uses [redacted]' });
    const waiting = runtime!.get(handleId!);
    expect(waiting.status).toBe('running');
    expect(waiting.awaitingApproval).toEqual({ requestId: request.requestId, tool: 'remove_file' });
    expect(removed).toEqual([]);
    expect(server.requests).toHaveLength(1);

    runtime!.approve(request.requestId, { approve: true, reason: 'looks fine' });
    const { results } = await delegation.result;
    expect(results[0]).toMatchObject({ status: 'completed', summary: 'tool said: removed a.txt' });
    expect(removed).toEqual(['a.txt']);
    expect(runtime!.get(handleId!).awaitingApproval).toBeNull();
    expect(endsOf(events)).toEqual([
      expect.objectContaining({ requestId: request.requestId, handleId, tool: 'remove_file', approved: true, reason: 'looks fine', decidedBy: 'host' }),
    ]);
    expect(JSON.stringify(events)).not.toContain(API_KEY);
  });

  it('denied by an async onApproval: the model reads the denial and its reason; the tool never runs', async () => {
    const asked: string[] = [];
    const { server, events, removed } = await setUp({
      onApproval: async (request) => {
        asked.push(`${request.tool} ${JSON.stringify(request.arguments)} by ${request.handleId}`);
        await new Promise((resolve) => setImmediate(resolve));
        return { approve: false, reason: 'a.txt is still needed' };
      },
    });
    const delegation = runtime!.delegate({ goal: 'clean up' });
    const { results } = await delegation.result;
    expect(asked).toEqual([`remove_file {"path":"a.txt"} by ${delegation.handleIds[0]}`]);
    expect(removed).toEqual([]);
    const seen = toolResultSeen(server);
    expect(seen).toMatchObject({ ok: false, error: { code: 'approval_denied' } });
    expect(typeof seen === 'object' && seen.error?.message).toMatch(/The call of `remove_file` was denied by the approver: a\.txt is still needed\. Do not retry it unchanged/);
    expect(results[0]?.status).toBe('completed');
    expect(endsOf(events)).toEqual([expect.objectContaining({ approved: false, reason: 'a.txt is still needed', decidedBy: 'handler' })]);
  });

  it('with no handler configured, the call is denied at once with a message the model reads in its next request', async () => {
    const { server, events, removed } = await setUp({});
    const { results } = await runtime!.delegate({ goal: 'clean up' }).result;
    expect(removed).toEqual([]);
    expect(results[0]?.status).toBe('completed');
    expect(server.requests).toHaveLength(2);
    const seen = toolResultSeen(server);
    expect(seen).toMatchObject({ ok: false, error: { code: 'approval_denied' } });
    expect(typeof seen === 'object' && seen.error?.message).toMatch(/`remove_file` needs approval and nobody can approve calls here: this runtime has no approval handler \(`onApproval`\)/);
    expect(events.filter((event) => event.type === 'approval-request')).toHaveLength(1);
    expect(endsOf(events)).toEqual([expect.objectContaining({ approved: false, decidedBy: 'no-handler' })]);
  });

  it('timed out by approvalTimeoutMs: denied, and the run goes on', async () => {
    const { server, events, removed } = await setUp({ onApproval: 'events', approvalTimeoutMs: 40 });
    const { results } = await runtime!.delegate({ goal: 'clean up' }).result;
    expect(removed).toEqual([]);
    expect(results[0]?.status).toBe('completed');
    const seen = toolResultSeen(server);
    expect(typeof seen === 'object' && seen.error?.message).toMatch(/needs approval and nobody answered in time: nobody answered within 40 ms \(approvalTimeoutMs\)/);
    const [end] = endsOf(events);
    expect(end).toMatchObject({ approved: false, decidedBy: 'timeout' });
    // Too late: the request is over, and approve() says how it ended.
    expect(() => runtime!.approve(end!.requestId, { approve: true })).toThrow(/already denied \(by timeout\)/);
  });

  it('timed out by the child timeout while waiting: the run ends `timeout`, its error says it waited for approval', async () => {
    const { server, events, removed } = await setUp({ onApproval: 'events', childTimeoutMs: 200 });
    const asked = nextEvent(runtime!, 'approval-request');
    const delegation = runtime!.delegate({ goal: 'clean up' });
    const request = await asked;
    const { results } = await delegation.result;
    expect(results[0]?.status).toBe('timeout');
    expect(results[0]?.error).toMatch(/^The run exceeded childTimeoutMs \(200 ms\) and was stopped\. When stopped it was waiting for approval of `remove_file` \(request ap_[\w-]+\) for \d+ ms; its last model call/);
    expect(removed).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(endsOf(events)).toEqual([expect.objectContaining({ requestId: request.requestId, approved: false, decidedBy: 'run-ended' })]);
    expect(runtime!.get(delegation.handleIds[0]!).awaitingApproval).toBeNull();
    expect(() => runtime!.approve(request.requestId, { approve: true })).toThrow(BadArgumentError);
  });

  it('an interrupt ends the wait: the call is aborted, not run', async () => {
    const { events, removed } = await setUp({ onApproval: 'events' });
    const asked = nextEvent(runtime!, 'approval-request');
    const delegation = runtime!.delegate({ goal: 'clean up' });
    await asked;
    runtime!.interrupt(delegation.handleIds[0]!);
    const { results } = await delegation.result;
    expect(results[0]?.status).toBe('interrupted');
    expect(removed).toEqual([]);
    expect(endsOf(events)).toEqual([expect.objectContaining({ decidedBy: 'run-ended' })]);
  });

  it('stale detection does not fire during a long approval wait (many times staleTimeoutMs)', async () => {
    // 200 ms: the run must reach its tool call (a model round trip, slow on a loaded machine) before its first stale check.
    const { events, removed } = await setUp({ onApproval: 'events', staleTimeoutMs: 200 });
    const asked = nextEvent(runtime!, 'approval-request');
    const delegation = runtime!.delegate({ goal: 'clean up' });
    const request = await asked;
    // Timers fire in order of their deadlines: an armed stale timer (200 ms) would have fired before this one.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const handle = runtime!.get(delegation.handleIds[0]!);
    expect(handle.status).toBe('running');
    expect(handle.awaitingApproval?.requestId).toBe(request.requestId);
    runtime!.approve(request.requestId, { approve: true });
    const { results } = await delegation.result;
    expect(results[0]?.status).toBe('completed');
    expect(removed).toEqual(['a.txt']);
    expect(events.some((event) => event.type === 'run-end' && event.outcome === 'timeout')).toBe(false);
  });

  it('the root agent asks too (runAgent): handleId null, depth 0; approved by the handler', async () => {
    const requests: ApprovalRequestEvent[] = [];
    const { events, removed } = await setUp({ onApproval: () => ({ approve: true }) });
    runtime!.subscribe((event) => event.type === 'approval-request' && requests.push(event));
    const answer = await runtime!.runAgent('remove a.txt');
    expect(answer.outcome).toBe('completed');
    expect(answer.text).toBe('tool said: removed a.txt');
    expect(removed).toEqual(['a.txt']);
    expect(requests).toEqual([expect.objectContaining({ handleId: null, parentId: null, depth: 0, goal: null, model: 'fake-model', runId: null, tool: 'remove_file' })]);
    expect(endsOf(events)).toEqual([expect.objectContaining({ handleId: null, approved: true, decidedBy: 'handler' })]);
  });

  it('the root agent with no handler: denied, and the model reads why', async () => {
    const { server, removed } = await setUp({});
    const answer = await runtime!.runAgent('remove a.txt');
    expect(answer.outcome).toBe('completed');
    expect(removed).toEqual([]);
    expect(toolResultSeen(server)).toMatchObject({ ok: false, error: { code: 'approval_denied' } });
  });

  it('a handler that throws denies the call and is reported', async () => {
    const reported: unknown[] = [];
    const { server, removed } = await setUp({
      onApproval: () => {
        throw new Error('approval service down');
      },
      onListenerError: (error) => reported.push(error),
    });
    await runtime!.delegate({ goal: 'clean up' }).result;
    expect(removed).toEqual([]);
    expect(reported).toEqual([expect.objectContaining({ message: 'approval service down' })]);
    const seen = toolResultSeen(server);
    expect(typeof seen === 'object' && seen.error?.message).toMatch(/the approval handler failed: approval service down/);
  });

  it('needsApproval as a function asks only for the calls it names', async () => {
    const { server } = await fakeServer({
      script: scriptByConversation((turn) => {
        if (turn.lastRole !== 'tool') return reply.toolCalls([{ name: 'remove_file', arguments: { path: 'tmp/x' } }, { name: 'remove_file', arguments: { path: 'src/y' } }]);
        return reply.text('done');
      }),
    });
    const { tool, removed } = removeFileTool(({ path }) => !path.startsWith('tmp/'));
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake-model', tools: [tool], onApproval: () => ({ approve: true }) });
    const asked: string[] = [];
    runtime.subscribe((event) => event.type === 'approval-request' && asked.push(String((event.arguments as { path: string }).path)));
    await runtime.delegate({ goal: 'clean up' }).result;
    expect(asked).toEqual(['src/y']);
    expect(removed).toEqual(['tmp/x', 'src/y']);
  });

  it('a dispatcher for your own loop asks the runtime host as well', async () => {
    const { removed } = await setUp({ onApproval: 'events' });
    const { tool } = removeFileTool();
    const dispatch = createToolDispatcher(runtime!, [tool], { handleId: null });
    const asked = nextEvent(runtime!, 'approval-request');
    const pending = dispatch('remove_file', '{"path":"b.txt"}');
    const request = await asked;
    expect(request).toMatchObject({ handleId: null, depth: 0, tool: 'remove_file', arguments: { path: 'b.txt' } });
    runtime!.approve(request.requestId, { approve: false });
    expect(JSON.parse(await pending)).toMatchObject({ ok: false, error: { code: 'approval_denied' } });
    // A call's own signal ends its wait: the call is aborted, not made.
    const stop = new AbortController();
    const askedAgain = nextEvent(runtime!, 'approval-request');
    const stopped = dispatch('remove_file', '{"path":"c.txt"}', { signal: stop.signal });
    const again = await askedAgain;
    const ended = nextEvent(runtime!, 'approval-end', (event) => event.requestId === again.requestId);
    stop.abort();
    expect(JSON.parse(await stopped)).toMatchObject({ ok: false, error: { code: 'aborted' } });
    expect(await ended).toMatchObject({ approved: false, decidedBy: 'run-ended' });
    expect(removed).toEqual([]);
  });

  it('approve() refuses unknown ids and answers of the wrong shape, saying what it expected', async () => {
    await setUp({ onApproval: 'events' });
    expect(() => runtime!.approve('ap_nothing', { approve: true })).toThrow(/Expected `requestId` to be the id of a pending approval request of this runtime \(0 pending\)/);
    const asked = nextEvent(runtime!, 'approval-request');
    const delegation = runtime!.delegate({ goal: 'clean up' });
    const request = await asked;
    expect(() => runtime!.approve(request.requestId, { approve: 'yes' } as never)).toThrow(/Expected `answer` to be \{ approve: boolean, reason\?: string \}/);
    expect(() => runtime!.approve(request.requestId, { approve: true, reason: 3 } as never)).toThrow(/`answer.reason` to be a string/);
    // A refused answer decided nothing: the request still waits.
    expect(runtime!.get(delegation.handleIds[0]!).awaitingApproval?.requestId).toBe(request.requestId);
    runtime!.approve(request.requestId, { approve: true });
    expect(() => runtime!.approve(request.requestId, { approve: true })).toThrow(/already approved \(by host\)/);
    await delegation.result;
  });

  it('refuses bad approval options at createRuntime', async () => {
    const client = new OpenAI({ baseURL: 'http://127.0.0.1:9', apiKey: 'test' });
    expect(() => createRuntime({ client, model: 'm', onApproval: 'yes' as never })).toThrow(/`onApproval`/);
    expect(() => createRuntime({ client, model: 'm', approvalTimeoutMs: -1 })).toThrow(/`approvalTimeoutMs`/);
    expect(() => createRuntime({ client, model: 'm', progressIntervalMs: -5 })).toThrow(/`progressIntervalMs`/);
    expect(() => defineTool({ name: 't', toolset: 'x', description: 'd', parameters: z.object({}), execute: () => '', needsApproval: 'always' as never })).toThrow(
      /needsApproval of tool `t`/,
    );
  });
});
