/**
 * `delegate_task` and `runtime.delegate` share one task schema and one set of
 * limits: the tool only renames fields (`agent_type` ↔ `agentType`) and words
 * the runtime's refusals for the model.
 */
import { describe, expect, it } from 'vitest';
import { BackgroundLimitError, BadArgumentError, BatchSizeError, DepthLimitError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { RuntimeOptions, SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { defineAgentType } from '../../src/delegation/agent-types.js';
import { createAgentTools } from '../../src/agent-tools/agent-tools.js';
import type { AgentToolsOptions } from '../../src/agent-tools/agent-tools.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { closeAfterEach } from '../support/cleanup.js';
import { agentToolsHarness } from '../support/agent-tools-harness.js';
import type { Answer } from '../support/agent-tools-harness.js';
import { controllableRun } from '../support/controllable-run.js';

let runtime: SubagentsRuntime | undefined;
closeAfterEach(() => [runtime]);

function setUp(options: Partial<RuntimeOptions> = {}, toolOptions: AgentToolsOptions = {}) {
  const harness = agentToolsHarness(options, toolOptions);
  runtime = harness.runtime;
  return harness;
}

/** What `delegate()` throws for a request, synchronously; fails the test when it does not throw. */
function refusalOf(created: SubagentsRuntime, request: Parameters<SubagentsRuntime['delegate']>[0]): BadArgumentError {
  try {
    created.delegate(request);
  } catch (error) {
    expect(error).toBeInstanceOf(BadArgumentError);
    return error as BadArgumentError;
  }
  throw new Error('expected delegate() to throw');
}

/** A task written with the tool's names, from one written with the runtime's. */
const asToolTask = (task: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(task).map(([key, value]) => [key === 'agentType' ? 'agent_type' : key, value]));

const asToolField = (field: string) => field.replace(/(^|\.)agentType$/, '$1agent_type');

/** Bad tasks, each with the field both entries must name (under the runtime's names). */
const badTasks: Array<[string, Record<string, unknown>, string]> = [
  ['an empty goal', { goal: '' }, 'goal'],
  ['a goal that is not text', { goal: 5 }, 'goal'],
  ['no goal at all', { context: 'only context' }, 'goal'],
  ['a context that is not text', { goal: 'x', context: ['a'] }, 'context'],
  ['an unknown role', { goal: 'x', role: 'king' }, 'role'],
  ['toolsets that are not a list', { goal: 'x', toolsets: 'read' }, 'toolsets'],
  ['a toolset name with a space', { goal: 'x', toolsets: ['read', 'bad name!'] }, 'toolsets[1]'],
  ['an unknown agent type', { goal: 'x', agentType: 'wizard' }, 'agentType'],
  ['an empty agent type', { goal: 'x', agentType: '' }, 'agentType'],
  ['an agent type that is not text', { goal: 'x', agentType: 3 }, 'agentType'],
  ['an empty model name', { goal: 'x', model: '' }, 'model'],
];

describe('one task schema for delegate() and delegate_task', () => {
  it.each(badTasks)('refuses %s the same way, alone and in a batch', async (_name, task, field) => {
    const { runtime: created, call } = setUp();
    for (const [request, toolArguments, prefix] of [
      [task, asToolTask(task), ''],
      [{ tasks: [{ goal: 'fine' }, task] }, { tasks: [{ goal: 'fine' }, asToolTask(task)] }, 'tasks[1].'],
    ] as const) {
      const error = refusalOf(created, request as Parameters<SubagentsRuntime['delegate']>[0]);
      expect(error.argument).toBe(`${prefix}${field}`);
      const answer = await call('delegate_task', toolArguments);
      expect(answer.error).toEqual({
        code: error.code,
        field: asToolField(error.argument),
        // Same expected and received: only the field's spelling differs.
        message: error.message.replace(`\`${error.argument}\``, `\`${asToolField(error.argument)}\``),
      });
    }
    expect(created.list()).toEqual([]);
  });

  it('names agent_type to the model wherever it sent it, and agentType to TypeScript callers', async () => {
    const { runtime: created, call } = setUp();
    const batch = await call('delegate_task', { tasks: [{ goal: 'a' }, { goal: 'b', agent_type: 'wizard' }] });
    expect(batch.error).toMatchObject({ code: 'bad_argument', field: 'tasks[1].agent_type' });
    expect(batch.error?.message).toMatch(/^Expected `tasks\[1\]\.agent_type` to be one of 'general', 'explore', 'plan', 'verify', got string `wizard`$/);
    expect(batch.error?.message).not.toContain('agentType');
    const single = await call('delegate_task', { goal: 'a', agent_type: '  ' });
    expect(single.error).toMatchObject({ code: 'bad_argument', field: 'agent_type' });
    const nextToTasks = await call('delegate_task', { agent_type: 'explore', tasks: [{ goal: 'a' }] });
    expect(nextToTasks.error).toMatchObject({ code: 'bad_argument', field: 'agent_type' });
    expect(nextToTasks.error?.message).toContain('`agent_type` to be absent next to `tasks`');
    expect(() => created.delegate({ tasks: [{ goal: 'a' }, { goal: 'b', agentType: 'wizard' }] })).toThrow(
      /^Expected `tasks\[1\]\.agentType` to be one of/,
    );
    expect(created.list()).toEqual([]);
  });

  it('refuses the TypeScript spelling from the model, even inside tasks sent as JSON text', async () => {
    const { runtime: created, call } = setUp();
    const answer = await call('delegate_task', { tasks: JSON.stringify([{ goal: 'a', agentType: 'explore' }]) });
    expect(answer.error).toMatchObject({ code: 'bad_argument', field: 'tasks[0].agentType' });
    expect(answer.error?.message).toContain('to be absent (not a task field)');
    const inherited = await call('delegate_task', { tasks: JSON.stringify([{ goal: 'a', toString: 1 }]) });
    expect(inherited.error).toMatchObject({ code: 'bad_argument', field: 'tasks[0].toString' });
    expect(created.list()).toEqual([]);
  });

  it('knows the user agent types on both entries', async () => {
    const reviewer = defineAgentType({ name: 'review', description: 'Reviews.', maxIterations: 5, promptFocus: 'Review the change.' });
    const { runtime: created, call, control } = setUp({ agentTypes: [reviewer] });
    const pending = call('delegate_task', { goal: 'look', agent_type: 'review' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(created.list()).toMatchObject([{ agentType: 'review' }]);
    control.runs[0]?.resolve('looked');
    expect((await pending).ok).toBe(true);
    expect(refusalOf(created, { goal: 'x', agentType: 'wizard' }).expected).toContain("'review'");
  });
});

describe('limits: decided by the runtime, worded by the tool', () => {
  it('refuses a batch over maxBatchSize in delegate() with a typed error, and the tool names the limit', async () => {
    const { runtime: created, call } = setUp({}, { maxBatchSize: 2 });
    const tasks = [{ goal: 'a' }, { goal: 'b' }, { goal: 'c' }];
    const error = refusalOf(created, { tasks, maxBatchSize: 2 });
    expect(error).toBeInstanceOf(BatchSizeError);
    expect(error).toMatchObject({ argument: 'tasks', count: 3, maxBatchSize: 2 });
    const answer = await call('delegate_task', { tasks });
    expect(answer.error).toMatchObject({ code: 'bad_argument', field: 'tasks' });
    expect(answer.error?.message).toContain('at most 2 tasks per call (maxBatchSize), got 3');
    expect(answer.error?.message).toContain('split them over several delegate_task calls');
    // Without a batch size, delegate() takes any number of tasks.
    expect(() => created.delegate({ tasks })).not.toThrow();
  });

  it('a background delegation over maxBackground reads as a background_limit tool error naming the limit', async () => {
    const { runtime: created, call } = setUp({ maxBackground: 1 });
    created.delegate({ goal: 'first', background: true });
    expect(() => created.delegate({ goal: 'second', background: true })).toThrow(BackgroundLimitError);
    const before = created.list();
    const answer = await call('delegate_task', { goal: 'third', background: true });
    expect(answer.error).toMatchObject({ code: 'background_limit', field: 'background' });
    expect(answer.error?.message).toContain('1 background delegations are running, the most allowed (1)');
    expect(answer.error?.message).toContain('maxBackground');
    expect(created.list()).toEqual(before);
  });

  it('a delegation or spawn past maxSpawnDepth reads as a depth_limit tool error stating the depths', async () => {
    const { runtime: created, as } = setUp({ maxSpawnDepth: 1 });
    created.spawn({ name: 'leaf' });
    expect(() => created.delegate({ goal: 'deeper', parentId: 'leaf' })).toThrow(DepthLimitError);
    const before = created.list();
    for (const [tool, args] of [
      ['delegate_task', { goal: 'deeper' }],
      ['spawn_agent', { message: 'deeper' }],
    ] as const) {
      const answer = await as('leaf')(tool, args);
      expect(answer.error?.code).toBe('depth_limit');
      expect(answer.error?.message).toBe('You are at depth 1 and the maximum spawn depth is 1: you cannot delegate; do the work yourself.');
    }
    expect(created.list()).toEqual(before);
  });

  it('follows the depth limit as setLimits changes it', async () => {
    const { runtime: created, as, control } = setUp({ maxSpawnDepth: 1 });
    created.spawn({ name: 'lead' });
    expect((await as('lead')('spawn_agent', {})).error?.code).toBe('depth_limit');
    created.setLimits({ maxSpawnDepth: 2 });
    const pending = as('lead')('delegate_task', { goal: 'dig' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(created.list({ parentId: 'lead' })).toHaveLength(1);
    control.runs[0]?.resolve('dug');
    expect((await pending).ok).toBe(true);
  });
});

describe('the tools keep no copy of a limit', () => {
  it('obey what the runtime enforces, not the limits it reports', async () => {
    const control = controllableRun();
    const created = createRuntime({ run: control.run, maxSpawnDepth: 2 });
    runtime = created;
    // A runtime that reports every limit as reached, while delegate() and spawn() allow the call.
    const reporting = new Proxy(created, {
      get(target, key) {
        if (key === 'limits') return { ...target.limits, maxSpawnDepth: 0 };
        if (key === 'activeBackground') return 1_000;
        if (key === 'options') return { ...target.options, maxBackground: 0 };
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const tools = createAgentTools(reporting);
    const call = async (name: string, args: unknown) =>
      JSON.parse(await createToolDispatcher(reporting, tools, { handleId: null })(name, JSON.stringify(args))) as Answer;
    expect(await call('delegate_task', { goal: 'in the background', background: true })).toMatchObject({ ok: true, background: true });
    expect(await call('spawn_agent', { nickname: 'kept' })).toMatchObject({ ok: true, handle: { id: 'kept' } });
    expect(created.list({ parentId: null })).toHaveLength(2);
  });
});

describe('delegate_task answers with the ids delegate() returned', () => {
  it('in the background, the delegation id and handle ids are those of the delegation', async () => {
    const { runtime: created, call, control } = setUp();
    const answer = await call('delegate_task', { tasks: [{ goal: 'a' }, { goal: 'b' }], background: true });
    const handleIds = answer.handleIds as string[];
    expect(created.list().map((handle) => handle.id)).toEqual(handleIds);
    await new Promise((resolve) => setImmediate(resolve));
    for (const run of control.runs) run.resolve('done');
    const outcome = await created.delegation(answer.delegationId as string);
    expect(outcome.results.map((result) => result.handleId)).toEqual(handleIds);
  });
});
