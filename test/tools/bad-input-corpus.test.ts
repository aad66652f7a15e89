/**
 * Malformed tool calls, as a confused or adversarial model might send them,
 * against every agent tool. Each one must come back as a readable error that
 * names the field at fault and what was expected, must not throw out of the
 * dispatcher, and must leave every handle of the runtime exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { AGENT_TOOL_NAMES, createAgentTools } from '../../src/agent-tools/agent-tools.js';
import type { AnyTool } from '../../src/toolkit/define-tool.js';
import { MAX_ARGUMENTS_LENGTH, createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import OpenAI from 'openai';
import { toolMessageThroughLoop } from '../support/loop-once.js';
import { reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { controllableRun } from '../support/controllable-run.js';

interface Row {
  /** The calling agent; `null` is the root agent. */
  caller: string | null;
  tool: string;
  /** The raw arguments text, exactly as the model sent it. */
  argumentsJson: string;
  /** The field the error must name. */
  field: string;
  /** The error code, when it is not `bad_argument`. */
  code?: string;
}

const MEGABYTE = 'x'.repeat(1_000_000);
const raw = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
const row = (tool: string, args: unknown, field: string, extra: Partial<Row> = {}): Row => ({
  caller: null,
  tool,
  argumentsJson: raw(args),
  field,
  ...extra,
});
const goals = (count: number) => Array.from({ length: count }, (_, index) => ({ goal: `task ${index}` }));

/** Broken for every tool alike: not JSON, not an object, or an unknown field. */
function genericRows(tool: string): Row[] {
  const whole = '(arguments)';
  return [
    row(tool, 'not json', whole),
    row(tool, '{', whole),
    row(tool, '{"target":', whole),
    row(tool, "{'goal': 'single quotes'}", whole),
    row(tool, 'NaN', whole),
    row(tool, 'undefined', whole),
    row(tool, '{"a":1}}', whole),
    row(tool, '[]', whole),
    row(tool, '[{"goal":"in an array"}]', whole),
    row(tool, 'null', whole),
    row(tool, '42', whole),
    row(tool, '"a string"', whole),
    row(tool, 'true', whole),
    row(tool, { bogus_field: 1 }, 'bogus_field'),
  ];
}

const specificRows: Row[] = [
  // delegate_task: the goal.
  row('delegate_task', {}, 'goal'),
  row('delegate_task', { goal: '' }, 'goal'),
  row('delegate_task', { goal: '   \n ' }, 'goal'),
  row('delegate_task', { goal: 5 }, 'goal'),
  row('delegate_task', { goal: null }, 'goal'),
  row('delegate_task', { goal: ['a'] }, 'goal'),
  row('delegate_task', { goal: { text: 'a' } }, 'goal'),
  row('delegate_task', { goal: true }, 'goal'),
  row('delegate_task', { goal: MEGABYTE }, 'goal'),
  row('delegate_task', { context: 'only context' }, 'goal'),
  // delegate_task: the other single-task fields.
  row('delegate_task', { goal: 'x', context: 5 }, 'context'),
  row('delegate_task', { goal: 'x', context: MEGABYTE }, 'context'),
  row('delegate_task', { goal: 'x', context: ['a'] }, 'context'),
  row('delegate_task', { goal: 'x', toolsets: 'read' }, 'toolsets'),
  row('delegate_task', { goal: 'x', toolsets: [1] }, 'toolsets[0]'),
  row('delegate_task', { goal: 'x', toolsets: ['read', 'bad name!'] }, 'toolsets[1]'),
  row('delegate_task', { goal: 'x', toolsets: [''] }, 'toolsets[0]'),
  row('delegate_task', { goal: 'x', toolsets: Array.from({ length: 65 }, (_, index) => `set${index}`) }, 'toolsets'),
  row('delegate_task', { goal: 'x', toolsets: { read: true } }, 'toolsets'),
  row('delegate_task', { goal: 'x', role: 'boss' }, 'role'),
  row('delegate_task', { goal: 'x', role: 'Orchestrator' }, 'role'),
  row('delegate_task', { goal: 'x', role: 1 }, 'role'),
  row('delegate_task', { goal: 'x', role: null }, 'role'),
  row('delegate_task', { goal: 'x', agent_type: 'wizard' }, 'agent_type'),
  row('delegate_task', { goal: 'x', agent_type: '' }, 'agent_type'),
  row('delegate_task', { goal: 'x', agent_type: 'toString' }, 'agent_type'),
  row('delegate_task', { goal: 'x', agent_type: 3 }, 'agent_type'),
  row('delegate_task', { goal: 'x', model: '' }, 'model'),
  row('delegate_task', { goal: 'x', model: 3 }, 'model'),
  row('delegate_task', { goal: 'x', model: 'm'.repeat(201) }, 'model'),
  row('delegate_task', { goal: 'x', background: 'yes' }, 'background'),
  row('delegate_task', { goal: 'x', background: 1 }, 'background'),
  row('delegate_task', { goal: 'x', background: null }, 'background'),
  row('delegate_task', { goal: 'x', background: true }, 'background', { code: 'background_limit' }),
  row('delegate_task', { goal: 'x', Goal: 'y' }, 'Goal'),
  row('delegate_task', { goal: 'x', parentId: 'busy' }, 'parentId'),
  row('delegate_task', { goal: 'x', agentType: 'explore' }, 'agentType'),
  row('delegate_task', { goal: 'x', max_iterations: 5 }, 'max_iterations'),
  // delegate_task: the batch.
  row('delegate_task', { tasks: [] }, 'tasks'),
  row('delegate_task', { tasks: '[]' }, 'tasks'),
  row('delegate_task', { tasks: '' }, 'tasks'),
  row('delegate_task', { tasks: '[{"goal":' }, 'tasks'),
  row('delegate_task', { tasks: 'first do a, then b' }, 'tasks'),
  row('delegate_task', { tasks: '{"goal":"an object, not an array"}' }, 'tasks'),
  row('delegate_task', { tasks: '"a JSON string in a string"' }, 'tasks'),
  row('delegate_task', { tasks: 5 }, 'tasks'),
  row('delegate_task', { tasks: null }, 'tasks'),
  row('delegate_task', { tasks: true }, 'tasks'),
  row('delegate_task', { tasks: { goal: 'a' } }, 'tasks'),
  row('delegate_task', { tasks: [1] }, 'tasks[0]'),
  row('delegate_task', { tasks: [null] }, 'tasks[0]'),
  row('delegate_task', { tasks: ['do a'] }, 'tasks[0]'),
  row('delegate_task', { tasks: [[{ goal: 'a' }]] }, 'tasks[0]'),
  row('delegate_task', { tasks: [{}] }, 'tasks[0].goal'),
  row('delegate_task', { tasks: [{ goal: '' }] }, 'tasks[0].goal'),
  row('delegate_task', { tasks: [{ goal: 'a' }, { goal: 5 }] }, 'tasks[1].goal'),
  row('delegate_task', { tasks: [{ goal: 'a' }, { goal: MEGABYTE }] }, 'tasks[1].goal'),
  row('delegate_task', { tasks: [{ goal: 'a', bogus: 1 }] }, 'tasks[0].bogus'),
  row('delegate_task', { tasks: [{ goal: 'a', role: 'king' }] }, 'tasks[0].role'),
  row('delegate_task', { tasks: [{ goal: 'a', toolsets: 'read' }] }, 'tasks[0].toolsets'),
  row('delegate_task', { tasks: [{ goal: 'a' }, { goal: 'b', agent_type: 'wizard' }] }, 'tasks[1].agent_type'),
  row('delegate_task', { tasks: JSON.stringify([{ goal: 'a', agent_type: 'wizard' }]) }, 'tasks[0].agent_type'),
  row('delegate_task', { tasks: JSON.stringify([{ goal: 'a' }, {}]) }, 'tasks[1].goal'),
  row('delegate_task', { tasks: goals(4) }, 'tasks'),
  row('delegate_task', { tasks: JSON.stringify(goals(4)) }, 'tasks'),
  row('delegate_task', { tasks: goals(1_000) }, 'tasks'),
  row('delegate_task', { goal: 'a', tasks: [{ goal: 'b' }] }, 'goal'),
  row('delegate_task', { context: 'shared', tasks: [{ goal: 'b' }] }, 'context'),
  row('delegate_task', { role: 'orchestrator', tasks: [{ goal: 'b' }] }, 'role'),
  row('delegate_task', { toolsets: ['read'], tasks: [{ goal: 'b' }] }, 'toolsets'),
  row('delegate_task', { tasks: [{ goal: 'b' }], background: 'later' }, 'background'),
  row('delegate_task', { goal: 5 }, 'goal', { caller: 'grandchild' }),
  // spawn_agent.
  row('spawn_agent', { message: '' }, 'message'),
  row('spawn_agent', { message: ' ' }, 'message'),
  row('spawn_agent', { message: 5 }, 'message'),
  row('spawn_agent', { message: null }, 'message'),
  row('spawn_agent', { message: MEGABYTE }, 'message'),
  row('spawn_agent', { message: ['hi'] }, 'message'),
  row('spawn_agent', { agent_type: 'wizard' }, 'agent_type'),
  row('spawn_agent', { agent_type: 5 }, 'agent_type'),
  row('spawn_agent', { nickname: 'has space' }, 'nickname'),
  row('spawn_agent', { nickname: '' }, 'nickname'),
  row('spawn_agent', { nickname: 'n'.repeat(65) }, 'nickname'),
  row('spawn_agent', { nickname: 12 }, 'nickname'),
  row('spawn_agent', { nickname: '../etc' }, 'nickname'),
  row('spawn_agent', { nickname: 'busy' }, 'nickname', { code: 'name_taken' }),
  row('spawn_agent', { nickname: 'grandchild', message: 'hi' }, 'nickname', { code: 'name_taken' }),
  row('spawn_agent', { model: '' }, 'model'),
  row('spawn_agent', { model: ['gpt'] }, 'model'),
  row('spawn_agent', { message: 'hi', parent_id: 'busy' }, 'parent_id'),
  row('spawn_agent', { message: 'hi', role: 'orchestrator' }, 'role'),
  // send_input.
  row('send_input', {}, 'message'),
  row('send_input', { target: 'busy' }, 'message'),
  row('send_input', { target: 'busy', message: '' }, 'message'),
  row('send_input', { target: 'busy', message: 5 }, 'message'),
  row('send_input', { target: 'busy', message: MEGABYTE }, 'message'),
  row('send_input', { target: 'busy', message: { text: 'hi' } }, 'message'),
  row('send_input', { target: 'nope', message: 'hi' }, 'target', { code: 'unknown_handle' }),
  row('send_input', { target: 'grandchild', message: 'hi' }, 'target', { code: 'unknown_handle' }),
  row('send_input', { target: 'shut', message: 'hi' }, 'target', { code: 'handle_closed' }),
  row('send_input', { target: 'idle1', message: 'hi' }, 'target', { code: 'unknown_handle', caller: 'busy' }),
  row('send_input', { target: 5, message: 'hi' }, 'target'),
  row('send_input', { target: '', message: 'hi' }, 'target'),
  row('send_input', { target: MEGABYTE, message: 'hi' }, 'target'),
  row('send_input', { target: ['busy'], message: 'hi' }, 'target'),
  row('send_input', { target: null, message: 'hi' }, 'target'),
  row('send_input', { target: 'busy', message: 'hi', interrupt: 'yes' }, 'interrupt'),
  row('send_input', { target: 'busy', message: 'hi', interrupt: 1 }, 'interrupt'),
  row('send_input', { target: 'busy', message: 'hi', interrupt: null }, 'interrupt'),
  row('send_input', { id: 'busy', message: 'hi' }, 'id'),
  // wait_agent.
  row('wait_agent', { targets: [] }, 'targets'),
  row('wait_agent', { targets: [5] }, 'targets[0]'),
  row('wait_agent', { targets: [''] }, 'targets[0]'),
  row('wait_agent', { targets: ['nope'] }, 'targets[0]', { code: 'unknown_handle' }),
  row('wait_agent', { targets: ['busy', 'nope'] }, 'targets[1]', { code: 'unknown_handle' }),
  row('wait_agent', { targets: ['grandchild'] }, 'targets[0]', { code: 'unknown_handle' }),
  row('wait_agent', { targets: 'nope' }, 'targets[0]', { code: 'unknown_handle' }),
  row('wait_agent', { targets: 5 }, 'targets'),
  row('wait_agent', { targets: null }, 'targets'),
  row('wait_agent', { targets: { id: 'busy' } }, 'targets'),
  row('wait_agent', { targets: Array.from({ length: 65 }, () => 'busy') }, 'targets'),
  row('wait_agent', { targets: ['busy'], timeout_ms: -1 }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: -1 }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: -0.5 }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: -1e308 }, 'timeout_ms'),
  row('wait_agent', '{"timeout_ms":1e309}', 'timeout_ms'),
  row('wait_agent', '{"timeout_ms":1e400}', 'timeout_ms'),
  row('wait_agent', '{"timeout_ms":-1e309}', 'timeout_ms'),
  row('wait_agent', { timeout_ms: '1000' }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: '10s' }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: null }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: true }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: [1000] }, 'timeout_ms'),
  row('wait_agent', { timeout_ms: {} }, 'timeout_ms'),
  row('wait_agent', { target: 'busy' }, 'target'),
  row('wait_agent', { targets: ['busy'], timeout: 1000 }, 'timeout'),
  // interrupt_agent.
  row('interrupt_agent', { target: 'nope' }, 'target', { code: 'unknown_handle' }),
  row('interrupt_agent', { target: 'grandchild' }, 'target', { code: 'unknown_handle' }),
  row('interrupt_agent', { target: 'shut' }, 'target', { code: 'handle_closed' }),
  row('interrupt_agent', { target: 'done' }, 'target', { code: 'not_running' }),
  row('interrupt_agent', { target: 'idle1' }, 'target', { code: 'not_running' }),
  row('interrupt_agent', { target: 5 }, 'target'),
  row('interrupt_agent', { target: '' }, 'target'),
  row('interrupt_agent', { targets: ['busy'] }, 'targets'),
  row('interrupt_agent', { target: 'busy', cascade: false }, 'cascade'),
  // close_agent.
  row('close_agent', { target: 'nope' }, 'target', { code: 'unknown_handle' }),
  row('close_agent', { target: 'grandchild' }, 'target', { code: 'unknown_handle' }),
  row('close_agent', { target: 'busy' }, 'target', { code: 'unknown_handle', caller: 'grandchild' }),
  row('close_agent', { target: 'shut' }, 'target', { code: 'handle_closed' }),
  row('close_agent', { target: 5 }, 'target'),
  row('close_agent', { target: '' }, 'target'),
  row('close_agent', { target: MEGABYTE }, 'target'),
  row('close_agent', { target: 'busy', force: true }, 'force'),
  // resume_agent.
  row('resume_agent', {}, 'target'),
  row('resume_agent', { target: 'nope' }, 'target', { code: 'unknown_handle' }),
  row('resume_agent', { target: 'busy' }, 'target', { code: 'not_resumable' }),
  row('resume_agent', { target: 'done' }, 'target', { code: 'not_resumable' }),
  row('resume_agent', { target: 'idle1' }, 'target', { code: 'not_resumable' }),
  row('resume_agent', { target: 'grandchild' }, 'target', { code: 'unknown_handle' }),
  row('resume_agent', { target: null }, 'target'),
  row('resume_agent', { target: 5 }, 'target'),
  // list_agents.
  row('list_agents', { status: 'sleeping' }, 'status'),
  row('list_agents', { status: 'RUNNING' }, 'status'),
  row('list_agents', { status: 5 }, 'status'),
  row('list_agents', { status: ['running'] }, 'status'),
  row('list_agents', { status: null }, 'status'),
  row('list_agents', { parent_id: 'busy' }, 'parent_id'),
  // agent_status.
  row('agent_status', { target: 'nope' }, 'target', { code: 'unknown_handle' }),
  row('agent_status', { target: 'grandchild' }, 'target', { code: 'unknown_handle' }),
  row('agent_status', { target: 'busy' }, 'target', { code: 'unknown_handle', caller: 'busy' }),
  row('agent_status', { target: 5 }, 'target'),
  row('agent_status', { target: '' }, 'target'),
  row('agent_status', { target: ['busy'] }, 'target'),
  row('agent_status', { agent_id: 'busy' }, 'agent_id'),
  // extend_deadline.
  row('extend_deadline', { extend_ms: 1000 }, 'target', { code: 'no_open_handle', caller: 'done' }),
  row('extend_deadline', { target: 'nope', extend_ms: 1000 }, 'target', { code: 'unknown_handle' }),
  row('extend_deadline', { target: 'grandchild', extend_ms: 1000 }, 'target', { code: 'unknown_handle' }),
  row('extend_deadline', { target: 'busy' }, 'extend_ms'),
  row('extend_deadline', { target: 'busy', extend_ms: 0 }, 'extend_ms'),
  row('extend_deadline', { target: 'busy', extend_ms: -5 }, 'extend_ms'),
  row('extend_deadline', { target: 'busy', extend_ms: 1.5 }, 'extend_ms'),
  row('extend_deadline', { target: 'busy', extend_ms: '1000' }, 'extend_ms'),
  // Unknown tools and oversized arguments.
  row('delegate', { goal: 'x' }, 'name', { code: 'unknown_tool' }),
  row('DELEGATE_TASK', { goal: 'x' }, 'name', { code: 'unknown_tool' }),
  row('', {}, 'name', { code: 'unknown_tool' }),
  row('toString', {}, 'name', { code: 'unknown_tool' }),
  row('__proto__', {}, 'name', { code: 'unknown_tool' }),
  row('constructor', {}, 'name', { code: 'unknown_tool' }),
  row(MEGABYTE, {}, 'name', { code: 'unknown_tool' }),
  row('delegate_task', { goal: 'x'.repeat(MAX_ARGUMENTS_LENGTH) }, '(arguments)'),
];

const corpus: Row[] = [...AGENT_TOOL_NAMES.flatMap(genericRows), ...specificRows];

let runtime: SubagentsRuntime;
let tools: AnyTool[];

beforeAll(async () => {
  const control = controllableRun();
  runtime = createRuntime({ run: control.run, maxSpawnDepth: 2, maxBackground: 1 });
  runtime.spawn({ name: 'busy', message: 'never ends' });
  runtime.spawn({ name: 'done', message: 'ends' });
  runtime.spawn({ name: 'shut' });
  runtime.close('shut');
  runtime.spawn({ name: 'idle1' });
  runtime.spawn({ name: 'grandchild', parentId: 'busy' });
  runtime.delegate({ goal: 'background work', background: true });
  // Run functions are called a microtask after their run starts.
  await new Promise((resolve) => setImmediate(resolve));
  control.runs.find((run) => run.input === 'ends')?.resolve('finished');
  await new Promise((resolve) => setImmediate(resolve));
  tools = createAgentTools(runtime);
});

afterAll(async () => {
  await runtime.shutdown();
});

describe('bad-input corpus', () => {
  it(`holds at least 150 malformed calls over all ten tools (${corpus.length})`, () => {
    console.log(`bad-input corpus: ${corpus.length} calls`);
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    for (const name of AGENT_TOOL_NAMES) expect(corpus.filter((entry) => entry.tool === name).length).toBeGreaterThanOrEqual(15);
  });

  it('the fixture has the handles the corpus names', () => {
    const statuses = Object.fromEntries(runtime.list().map((handle) => [handle.id, handle.status]));
    expect(statuses).toMatchObject({ busy: 'running', done: 'completed', shut: 'closed', idle1: 'idle', grandchild: 'idle' });
    expect(runtime.activeBackground).toBe(1);
  });

  it.each(corpus.map((entry, index) => [index, entry.tool.slice(0, 20), entry.argumentsJson.slice(0, 80), entry] as const))(
    '#%i %s %s',
    async (_index, _tool, _arguments, entry) => {
      const before = runtime.list();
      const backgroundBefore = runtime.activeBackground;
      const dispatch = createToolDispatcher(runtime, tools, { handleId: entry.caller });
      const text = await dispatch(entry.tool, entry.argumentsJson);
      const answer = JSON.parse(text) as { ok: boolean; error: { code: string; message: string; field?: string } };
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe(entry.code ?? 'bad_argument');
      expect(answer.error.field).toBe(entry.field);
      // The message names the field and what was expected, and stays short whatever came in.
      expect(answer.error.message).toContain(`\`${entry.field}\``);
      expect(answer.error.message).toMatch(/expected|allowed fields/i);
      expect(text.length).toBeLessThan(4_000);
      expect(runtime.list()).toEqual(before);
      expect(runtime.activeBackground).toBe(backgroundBefore);
    },
  );
});

describe('the same corpus through the built-in agent loop', () => {
  let server: FakeServer;
  let current: Row = corpus[0]!;
  beforeAll(async () => {
    // Not streamed: one JSON body per reply, however large the scripted call.
    server = await startFakeServer({
      script: (request) => (request.body.messages.at(-1)?.role === 'tool' ? reply.text('noted') : reply.toolCall(current.tool, current.argumentsJson)),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it(`answers each of the ${corpus.length} calls with the dispatcher's error, and changes nothing`, async () => {
    const client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
    for (const entry of corpus) {
      current = entry;
      const before = runtime.list();
      const dispatched = await createToolDispatcher(runtime, tools, { handleId: entry.caller })(entry.tool, entry.argumentsJson);
      const { content, stats } = await toolMessageThroughLoop(client, tools, {
        handleId: entry.caller,
        depth: entry.caller === null ? 0 : runtime.get(entry.caller).depth,
        cwd: runtime.workingDirectory(entry.caller),
      });
      expect(content, `#${corpus.indexOf(entry)} ${entry.tool.slice(0, 20)}`).toBe(dispatched);
      expect(JSON.parse(dispatched)).toMatchObject({ ok: false, error: { code: entry.code ?? 'bad_argument', field: entry.field } });
      expect(stats.toolTrace).toMatchObject([{ ok: false }]);
      expect(runtime.list()).toEqual(before);
    }
  }, 120_000);
});
