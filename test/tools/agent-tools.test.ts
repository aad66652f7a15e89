import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { RuntimeOptions, SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { AGENT_TOOL_NAMES, createAgentTools } from '../../src/agent-tools/agent-tools.js';
import type { AgentToolsOptions } from '../../src/agent-tools/agent-tools.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { parseToolArguments } from '../../src/toolkit/tool-arguments.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { closeAfterEach } from '../support/cleanup.js';
import { agentToolsHarness } from '../support/agent-tools-harness.js';
import type { Answer } from '../support/agent-tools-harness.js';

let runtime: SubagentsRuntime | undefined;
let server: FakeServer | undefined;
closeAfterEach(() => [runtime, server]);

function setUp(options: Partial<RuntimeOptions> = {}, toolOptions: AgentToolsOptions = {}) {
  const harness = agentToolsHarness(options, toolOptions);
  runtime = harness.runtime;
  return harness;
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createAgentTools', () => {
  it('returns the nine tools, all in the delegation toolset', () => {
    const { tools } = setUp();
    expect(tools.map((tool) => tool.name)).toEqual([...AGENT_TOOL_NAMES]);
    expect(new Set(tools.map((tool) => tool.toolset))).toEqual(new Set(['delegation']));
  });

  it('throws on invalid options when the tools are created', () => {
    const created = createRuntime({ run: async () => '' });
    runtime = created;
    expect(() => createAgentTools(created, { maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => createAgentTools(created, { minWaitMs: 5_000, maxWaitMs: 1_000 })).toThrow(/maxWaitMs/);
  });
});

describe('delegate_task', () => {
  it('runs one task for the root agent and answers with its result', async () => {
    const { call, control } = setUp();
    const pending = call('delegate_task', { goal: 'count the files', context: 'in src/' });
    await flush();
    expect(control.runs[0]?.input).toBe('count the files');
    expect(control.runs[0]?.context.handle.parentId).toBeNull();
    control.runs[0]?.resolve('12 files');
    const answer = await pending;
    expect(answer).toMatchObject({ ok: true, background: false, delegationId: expect.stringMatching(/^dg_/) as string });
    expect(answer.results).toEqual([
      {
        task: 0,
        handleId: expect.any(String) as string,
        status: 'completed',
        exitReason: 'completed',
        summary: '12 files',
        apiCalls: 0,
        durationMs: expect.any(Number) as number,
        usage: { inputTokens: 0, outputTokens: 0 },
        model: 'custom',
        toolTrace: { calls: 0, failed: 0, byTool: {} },
        deniedToolsets: [],
        degradedToLeaf: false,
      },
    ]);
  });

  it('recovers tasks sent as a JSON string and answers in task order', async () => {
    const { call, control } = setUp();
    const pending = call('delegate_task', { tasks: JSON.stringify([{ goal: 'first' }, { goal: 'second' }]) });
    await flush();
    // Finish them out of order: results still come in task order.
    control.runs[1]?.resolve('two');
    control.runs[0]?.resolve('one');
    const answer = await pending;
    expect((answer.results as Array<{ summary: string }>).map((result) => result.summary)).toEqual(['one', 'two']);
  });

  it('recovers a JSON-string batch on the model loop path too (parseToolArguments)', () => {
    const { tools } = setUp();
    const parsed = parseToolArguments(tools[0]!, JSON.stringify({ tasks: '[{"goal":"a"}]' }));
    expect(parsed).toEqual({ ok: true, args: { tasks: [{ goal: 'a' }] } });
  });

  it('refuses more tasks than the batch size, stating the limit and the ways out, and follows setLimits', async () => {
    const { call, runtime: created, control } = setUp();
    const four = { tasks: [1, 2, 3, 4].map((index) => ({ goal: `task ${index}` })) };
    const refused = await call('delegate_task', four);
    expect(refused.error).toMatchObject({ code: 'bad_argument', field: 'tasks' });
    expect(refused.error?.message).toContain('at most 3 tasks per call (maxBatchSize), got 4');
    expect(refused.error?.message).toContain('split them over several delegate_task calls');
    expect(refused.error?.message).toContain('background: true');
    expect(created.list()).toEqual([]);
    created.setLimits({ maxConcurrentChildren: 4 });
    const pending = call('delegate_task', four);
    await flush();
    expect(control.runs).toHaveLength(4);
    for (const run of control.runs) run.resolve('ok');
    expect((await pending).ok).toBe(true);
  });

  it('takes its batch size from the maxBatchSize option when given', async () => {
    const { call } = setUp({}, { maxBatchSize: 1 });
    const refused = await call('delegate_task', { tasks: [{ goal: 'a' }, { goal: 'b' }] });
    expect(refused.error?.message).toContain('at most 1 tasks per call (maxBatchSize), got 2');
  });

  it('in the background, answers at once with the ids; the result comes later', async () => {
    const { call, control, runtime: created } = setUp();
    const answer = await call('delegate_task', { tasks: [{ goal: 'a' }, { goal: 'b' }], background: true });
    expect(answer).toMatchObject({ ok: true, background: true, delegationId: expect.any(String) as string });
    const handleIds = answer.handleIds as string[];
    expect(handleIds).toHaveLength(2);
    expect(answer.note).toMatch(/arrive later as a message/);
    expect(created.list({ parentId: null }).map((handle) => handle.id)).toEqual(handleIds);
    await flush();
    control.runs[0]?.resolve('A');
    control.runs[1]?.resolve('B');
    const outcome = await created.delegation(answer.delegationId as string);
    expect(outcome.results.map((result) => result.summary)).toEqual(['A', 'B']);
  });

  it('refuses a background delegation over maxBackground without spawning anything', async () => {
    const { call, runtime: created } = setUp({ maxBackground: 1 });
    expect((await call('delegate_task', { goal: 'one', background: true })).ok).toBe(true);
    const before = created.list();
    const refused = await call('delegate_task', { goal: 'two', background: true });
    expect(refused.error).toMatchObject({ code: 'background_limit', field: 'background' });
    expect(refused.error?.message).toContain('the most allowed (1)');
    expect(created.list()).toEqual(before);
  });

  it('delegates from a subagent under that subagent, and refuses at the depth limit', async () => {
    const { as, runtime: created, control } = setUp({ maxSpawnDepth: 2 });
    created.spawn({ name: 'lead' });
    const pending = as('lead')('delegate_task', { goal: 'dig', role: 'orchestrator' });
    await flush();
    const [child] = created.list({ parentId: 'lead' });
    expect(child).toMatchObject({ depth: 2, role: 'leaf' });
    control.runs[0]?.resolve('dug');
    const answer = await pending;
    expect(answer.results).toMatchObject([{ summary: 'dug', degradedToLeaf: true }]);
    const before = created.list();
    const refused = await as(child!.id)('delegate_task', { goal: 'deeper' });
    expect(refused.error?.code).toBe('depth_limit');
    expect(refused.error?.message).toContain('maximum spawn depth is 2');
    expect(created.list()).toEqual(before);
  });

  it('when the calling run is stopped, stops waiting and cancels the children it started', async () => {
    const { as, runtime: created } = setUp();
    const stop = new AbortController();
    const pending = as(null, stop.signal)('delegate_task', { tasks: [{ goal: 'a' }, { goal: 'b' }] });
    await flush();
    expect(created.list().map((handle) => handle.status)).toEqual(['running', 'running']);
    stop.abort();
    const answer = await pending;
    expect(answer.error?.code).toBe('aborted');
    expect(created.list().map((handle) => handle.status)).toEqual(['cancelled', 'cancelled']);
  });
});

describe('handle operator tools', () => {
  it('spawn_agent, send_input, wait_agent, agent_status and list_agents work one handle through', async () => {
    const { call, control, runtime: created } = setUp();
    const spawned = await call('spawn_agent', { message: 'first', nickname: 'scout', agent_type: 'explore', model: 'small' });
    expect(spawned).toMatchObject({ ok: true, handle: { id: 'scout', status: 'running', agentType: 'explore', model: 'small', depth: 1 } });
    expect(created.get('scout').parentId).toBeNull();
    const queued = await call('send_input', { target: 'scout', message: 'second' });
    expect(queued).toMatchObject({ delivery: 'queued', handle: { queueSize: 1, queuedPreview: 'second' } });
    const waiting = call('wait_agent', { targets: ['scout'], timeout_ms: 5_000 });
    control.runs[0]?.resolve('one');
    await flush();
    control.runs[1]?.resolve('two');
    const waited = await waiting;
    expect(waited).toMatchObject({ ok: true, timedOut: false, pending: [], timeoutMs: 5_000 });
    expect(waited).not.toHaveProperty('clamped');
    expect(waited.completed).toMatchObject([{ id: 'scout', status: 'completed', lastOutput: 'two', runs: 2 }]);
    expect(await call('agent_status', { target: 'scout' })).toMatchObject({ handle: { lastInput: 'second', lastOutput: 'two' }, subagents: 0 });
    const started = await call('send_input', { message: 'third' });
    expect(started).toMatchObject({ delivery: 'started', handle: { id: 'scout', status: 'running' } });
    const listed = await call('list_agents', {});
    expect(listed).toMatchObject({ total: 1, counts: { running: 1 }, agents: [{ id: 'scout', status: 'running' }] });
    expect(await call('list_agents', { status: 'completed' })).toMatchObject({ total: 1, agents: [] });
  });

  it('send_input with interrupt aborts the current run and runs the input next', async () => {
    const { call, control } = setUp();
    await call('spawn_agent', { message: 'slow', nickname: 'w' });
    await call('send_input', { target: 'w', message: 'queued' });
    const answer = await call('send_input', { target: 'w', message: 'urgent', interrupt: true });
    expect(answer).toMatchObject({ delivery: 'interrupted', handle: { status: 'running', lastInput: 'urgent', queueSize: 1 } });
    expect(control.runs[0]?.aborted).toBe(true);
    expect(control.runs[1]?.input).toBe('urgent');
  });

  it('interrupt_agent keeps the queue and resume_agent goes on with it', async () => {
    const { call, control } = setUp();
    await call('spawn_agent', { message: 'first', nickname: 'w' });
    await call('send_input', { target: 'w', message: 'second' });
    const interrupted = await call('interrupt_agent', { target: 'w' });
    expect(interrupted).toMatchObject({ previousStatus: 'running', handle: { status: 'interrupted', queueSize: 1 } });
    expect(control.runs[0]?.aborted).toBe(true);
    const again = await call('interrupt_agent', { target: 'w' });
    expect(again.error).toMatchObject({ code: 'not_running', field: 'target' });
    const resumed = await call('resume_agent', { target: 'w' });
    expect(resumed).toMatchObject({ previousStatus: 'interrupted', handle: { status: 'running', lastInput: 'second' } });
  });

  it('close_agent reports the previous status and the unprocessed inputs; a closed handle takes no input until resumed', async () => {
    const { call, runtime: created } = setUp();
    await call('spawn_agent', { message: 'first', nickname: 'w' });
    await call('send_input', { target: 'w', message: 'second' });
    await call('send_input', { target: 'w', message: 'third' });
    const closed = await call('close_agent', { target: 'w' });
    expect(closed).toMatchObject({ previousStatus: 'running', unprocessed: ['second', 'third'], handle: { status: 'closed' } });
    const before = created.list();
    const refused = await call('send_input', { target: 'w', message: 'fourth' });
    expect(refused.error).toMatchObject({ code: 'handle_closed', field: 'target' });
    expect(refused.error?.message).toContain('resume_agent');
    expect(created.list()).toEqual(before);
    expect(await call('resume_agent', { target: 'w' })).toMatchObject({ previousStatus: 'closed', handle: { status: 'idle' } });
    expect(await call('send_input', { target: 'w', message: 'fifth' })).toMatchObject({ delivery: 'started' });
  });

  it('wait_agent clamps its timeout and says so', async () => {
    const { call, control } = setUp();
    await call('spawn_agent', { message: 'x', nickname: 'w' });
    control.runs[0]?.resolve('done');
    await flush();
    const short = await call('wait_agent', { targets: ['w'], timeout_ms: 0 });
    expect(short).toMatchObject({ timeoutMs: 1_000, clamped: 'timeout_ms 0 was raised to the minimum of 1000 ms' });
    const long = await call('wait_agent', { targets: 'w', timeout_ms: 1e12 });
    expect(long).toMatchObject({ timeoutMs: 600_000, clamped: 'timeout_ms 1000000000000 was lowered to the maximum of 600000 ms' });
    expect(long.completed).toMatchObject([{ id: 'w', status: 'completed' }]);
  });

  it('wait_agent reports what is still running at the timeout', async () => {
    const { call } = setUp({}, { minWaitMs: 10, maxWaitMs: 1_000 });
    await call('spawn_agent', { message: 'never ends', nickname: 'w' });
    await call('spawn_agent', { nickname: 'idle' });
    const answer = await call('wait_agent', { targets: ['w', 'idle'], timeout_ms: 20 });
    expect(answer).toMatchObject({ timedOut: true, timeoutMs: 20, completed: [{ id: 'idle' }], pending: [{ id: 'w', status: 'running' }] });
  });
});

describe('scope', () => {
  it('an agent operates only on the handles it spawned; other ids are unknown to it', async () => {
    const { as, call, runtime: created } = setUp({ maxSpawnDepth: 2 });
    await call('spawn_agent', { nickname: 'lead' });
    await call('spawn_agent', { nickname: 'sibling' });
    const lead = as('lead');
    await lead('spawn_agent', { nickname: 'worker', message: 'go' });
    expect(created.get('worker').parentId).toBe('lead');
    // The root does not see its grandchild, and the lead does not see its sibling.
    const fromRoot = await call('agent_status', { target: 'worker' });
    expect(fromRoot.error).toMatchObject({ code: 'unknown_handle', field: 'target' });
    expect(fromRoot.error?.message).toContain('lead (idle), sibling (idle)');
    const fromLead = await lead('close_agent', { target: 'sibling' });
    expect(fromLead.error).toMatchObject({ code: 'unknown_handle', field: 'target' });
    expect(fromLead.error?.message).toContain('yours: worker (running)');
    expect(fromLead.error?.message).not.toContain('lead (');
    expect((await lead('list_agents', {})).agents).toMatchObject([{ id: 'worker' }]);
    expect((await call('list_agents', {})).agents).toMatchObject([{ id: 'lead' }, { id: 'sibling' }]);
    expect(created.get('sibling').status).toBe('idle');
  });

  it('a missing target is the most recently updated open handle of the caller', async () => {
    const { call, control } = setUp();
    // Recency is the order of changes, not the clock: no wait is needed for the two to differ.
    await call('spawn_agent', { nickname: 'a', message: 'x' });
    await call('spawn_agent', { nickname: 'b' });
    expect(await call('agent_status', {})).toMatchObject({ handle: { id: 'b' } });
    control.runs[0]?.resolve('done');
    await flush();
    // `a` was updated last (its run ended).
    expect(await call('agent_status', {})).toMatchObject({ handle: { id: 'a', status: 'completed' } });
    await call('close_agent', {});
    expect(await call('agent_status', {})).toMatchObject({ handle: { id: 'b' } });
    await call('close_agent', {});
    const none = await call('wait_agent', {});
    expect(none.error).toMatchObject({ code: 'no_open_handle', field: 'targets' });
    expect(none.error?.message).toContain('all 2 of yours are closed');
  });

  it('with no handle at all, a missing target says none was spawned', async () => {
    const { call } = setUp();
    const answer = await call('send_input', { message: 'hi' });
    expect(answer.error).toMatchObject({ code: 'no_open_handle', field: 'target' });
    expect(answer.error?.message).toContain('you have spawned none');
  });
});

describe('createToolDispatcher', () => {
  it('answers every call with JSON, also for other tools, thrown errors and unknown names', async () => {
    const created = createRuntime({ run: async () => '' });
    runtime = created;
    const echo = defineTool({ name: 'echo', toolset: 'misc', description: 'Echoes.', parameters: z.object({ text: z.string() }), execute: ({ text }) => text });
    const boom = defineTool({
      name: 'boom',
      toolset: 'misc',
      description: 'Fails.',
      parameters: z.object({}),
      execute: () => {
        throw new TypeError('kaput');
      },
    });
    const dispatch = createToolDispatcher(created, [echo, boom], { handleId: null });
    expect(JSON.parse(await dispatch('echo', '{"text":"hi"}'))).toEqual({ ok: true, result: 'hi' });
    expect(JSON.parse(await dispatch('boom', ''))).toEqual({ ok: false, error: { code: 'tool_failed', message: 'TypeError: kaput' } });
    expect(JSON.parse(await dispatch('nope', '{}'))).toMatchObject({ ok: false, error: { code: 'unknown_tool', field: 'name' } });
    const notString = await dispatch(42 as unknown as string, undefined as unknown as string);
    expect(JSON.parse(notString)).toMatchObject({ ok: false, error: { code: 'unknown_tool' } });
    expect(dispatch.definitions().map((definition) => definition.function.name)).toEqual(['echo', 'boom']);
  });

  it("passes a call's own signal to the tool with the dispatcher's, and ignores call options that are not an object", async () => {
    const created = createRuntime({ run: async () => '' });
    runtime = created;
    const seen: AbortSignal[] = [];
    const wait = defineTool({
      name: 'wait',
      toolset: 'misc',
      description: 'Waits until stopped.',
      parameters: z.object({}),
      execute: (_args, { signal }) => {
        seen.push(signal);
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      },
    });
    const dispatch = createToolDispatcher(created, [wait], { handleId: null });
    const controller = new AbortController();
    const pending = dispatch('wait', '{}', { signal: controller.signal, callId: 'call_1' });
    controller.abort();
    expect(JSON.parse(await pending)).toMatchObject({ ok: false, error: { code: 'aborted' } });
    expect(JSON.parse(await dispatch('wait', '{}', { signal: AbortSignal.abort() }))).toMatchObject({ ok: false, error: { code: 'aborted' } });
    // Not an object: no signal of its own, so the call runs until the dispatcher's signal (never, here) or the tool's end.
    const echo = defineTool({ name: 'echo', toolset: 'misc', description: 'Echoes.', parameters: z.object({ text: z.string() }), execute: ({ text }) => text });
    expect(JSON.parse(await createToolDispatcher(created, [echo], { handleId: null })('echo', '{"text":"hi"}', null as never))).toEqual({ ok: true, result: 'hi' });
    expect(seen).toHaveLength(1);
  });

  it('refuses a duplicate tool name or a bad caller when it is created', () => {
    const created = createRuntime({ run: async () => '' });
    runtime = created;
    const tools = createAgentTools(created);
    expect(() => createToolDispatcher(created, [...tools, tools[0]!], { handleId: null })).toThrow(/delegate_task/);
    expect(() => createToolDispatcher(created, tools, { handleId: null, depth: -1 })).toThrow(/depth/);
  });
});

describe('over a model (fake OpenAI server)', () => {
  it('delegate_task results carry the tool trace summary, denied toolsets and the leaf degradation', async () => {
    const lookup = defineTool({
      name: 'lookup',
      toolset: 'read',
      description: 'Looks a word up.',
      parameters: z.object({ word: z.string() }),
      execute: ({ word }) => `definition of ${word}`,
    });
    server = await startFakeServer({
      script: scriptByConversation((turn) =>
        turn.lastRole === 'tool'
          ? reply.text(`found: ${turn.toolResults[0]?.content}`, { usage: { promptTokens: 7, completionTokens: 2 } })
          : reply.toolCall('lookup', { word: 'actor' }, { usage: { promptTokens: 5, completionTokens: 1 } }),
      ),
    });
    const created = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake-model', tools: [lookup] });
    runtime = created;
    const dispatch = createToolDispatcher(created, createAgentTools(created), { handleId: null });
    const answer = JSON.parse(
      await dispatch('delegate_task', JSON.stringify({ goal: 'define actor', toolsets: ['read', 'web'], role: 'orchestrator' })),
    ) as Answer;
    expect(answer.results).toEqual([
      expect.objectContaining({
        status: 'completed',
        summary: 'found: definition of actor',
        apiCalls: 2,
        usage: { inputTokens: 12, outputTokens: 3 },
        model: 'fake-model',
        toolTrace: { calls: 1, failed: 0, byTool: { lookup: 1 } },
        deniedToolsets: ['web'],
        degradedToLeaf: true,
      }),
    ]);
  });
});
