/**
 * Idempotent spawns and delegations: a call repeated with its key returns
 * what the first one did and starts nothing, in the same runtime, in a new
 * runtime restored from a file store, and in a new process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { AgentRun, Runtime } from '../../src/agent/create-runtime.js';
import { BadArgumentError } from '../../src/errors.js';
import { fileStore, memoryStore } from '../../src/store/index.js';
import { IDEMPOTENCY } from '../../src/delegation/idempotency.js';
import { createAgentTools } from '../../src/agent-tools/agent-tools.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { describeConversation, reply, startFakeServer } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run: AgentRun = async (input) => ({ output: `done: ${input}` });
const temporary = () => mkdtempSync(path.join(tmpdir(), 'subagents-idempotency-'));
/** A tool's answer without the one field the view computes when it answers: how long ago the handle last did something. */
const atAnyTime = (answer: string) => answer.replace(/"lastActivityMsAgo":\d+/g, '"lastActivityMsAgo":0');

let runtime: Runtime | undefined;
let second: Runtime | undefined;
closeAfterEach(() => [runtime, second]);

/** The error `call` throws; fails the test when it does not throw. */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('spawn with an idempotency key', () => {
  it('a repeated spawn returns the first snapshot and spawns nothing', async () => {
    runtime = createRuntime({ run });
    const first = runtime.spawn({ message: 'hello', goal: 'greet', idempotencyKey: 'call_0' });
    await runtime.wait(first.id);
    const again = runtime.spawn({ goal: 'greet', message: 'hello', idempotencyKey: 'call_0' });
    expect(again).toEqual(first);
    expect(again.status).toBe('running');
    expect(runtime.list().map((handle) => handle.id)).toEqual([first.id]);
    // The replay answered from what was kept: the handle itself went on.
    expect(runtime.get(first.id).status).toBe('completed');
    // Without a key, or with another, a spawn is a new child.
    expect(runtime.spawn({ message: 'hello', goal: 'greet' }).id).not.toBe(first.id);
    expect(runtime.spawn({ message: 'hello', goal: 'greet', idempotencyKey: 'call_1' }).id).not.toBe(first.id);
    expect(runtime.list()).toHaveLength(3);
  });

  it('the same key with other arguments is a BadArgumentError, and nothing is spawned', () => {
    runtime = createRuntime({ run });
    runtime.spawn({ message: 'hello', idempotencyKey: 'call_0' });
    const error = thrown(() => runtime!.spawn({ message: 'goodbye', idempotencyKey: 'call_0' })) as BadArgumentError;
    expect(error).toBeInstanceOf(BadArgumentError);
    expect(error.argument).toBe('idempotencyKey');
    expect(error.message).toMatch(/^Expected `idempotencyKey` to be a key its caller has not used for other arguments \(it names a spawn of `sa_[\w-]+`/);
    // A key names one method's call: a delegation cannot reuse a spawn's.
    expect(thrown(() => runtime!.delegate({ goal: 'hello', idempotencyKey: 'call_0' }))).toBeInstanceOf(BadArgumentError);
    expect(runtime.list()).toHaveLength(1);
    for (const bad of ['', 5, 'k'.repeat(257)]) {
      expect(thrown(() => runtime!.spawn({ idempotencyKey: bad as string }))).toMatchObject({ argument: 'idempotencyKey' });
    }
  });

  it('is scoped to its caller: the same key from two parents spawns two children', () => {
    runtime = createRuntime({ run, maxSpawnDepth: 2 });
    const a = runtime.spawn({ name: 'a', role: 'orchestrator' });
    const b = runtime.spawn({ name: 'b', role: 'orchestrator' });
    const fromA = runtime.spawn({ parentId: a.id, goal: 'same', idempotencyKey: 'call_0' });
    const fromB = runtime.spawn({ parentId: b.id, goal: 'same', idempotencyKey: 'call_0' });
    const fromRoot = runtime.spawn({ goal: 'same', idempotencyKey: 'call_0' });
    expect(new Set([fromA.id, fromB.id, fromRoot.id]).size).toBe(3);
    expect(runtime.spawn({ parentId: a.id, goal: 'same', idempotencyKey: 'call_0' }).id).toBe(fromA.id);
    expect(runtime.list()).toHaveLength(5);
  });

  it('lives as long as its handle: forgetting it drops the key, in the store too', async () => {
    const store = memoryStore();
    runtime = createRuntime({ run, store, maxSpawnDepth: 2 });
    const first = runtime.spawn({ goal: 'g', idempotencyKey: 'k' });
    const parent = runtime.spawn({ name: 'p', role: 'orchestrator' });
    runtime.spawn({ parentId: 'p', goal: 'g', idempotencyKey: 'k' });
    expect(store.load().get(IDEMPOTENCY)?.size).toBe(2);
    runtime.close(first.id);
    runtime.forget(first.id);
    expect(store.load().get(IDEMPOTENCY)?.size).toBe(1);
    expect(runtime.spawn({ goal: 'g', idempotencyKey: 'k' }).id).not.toBe(first.id);
    // Forgetting the caller drops the keys it used.
    runtime.close(parent.id);
    runtime.forget(parent.id);
    expect([...(store.load().get(IDEMPOTENCY)?.values() ?? [])]).toEqual([expect.objectContaining({ parentId: null, key: 'k' })]);
  });
});

describe('delegate with an idempotency key', () => {
  it('a repeated delegation returns the same ids and result and starts nothing', async () => {
    runtime = createRuntime({ run });
    const first = runtime.delegate({ tasks: [{ goal: 'one' }, { goal: 'two' }], idempotencyKey: 'call_7' });
    const again = runtime.delegate({ tasks: [{ goal: 'one' }, { goal: 'two' }], idempotencyKey: 'call_7' });
    expect(again.delegationId).toBe(first.delegationId);
    expect(again.handleIds).toEqual(first.handleIds);
    const outcome = await first.result;
    expect(await again.result).toEqual(outcome);
    expect(outcome.results.map((result) => result.summary)).toEqual(['done: one', 'done: two']);
    expect(runtime.list()).toHaveLength(2);
    const error = thrown(() => runtime!.delegate({ tasks: [{ goal: 'one' }], idempotencyKey: 'call_7' }));
    expect(error).toMatchObject({ argument: 'idempotencyKey' });
    expect((error as Error).message).toContain(`the delegation \`${first.delegationId}\``);
    // Background or not is part of the call.
    expect(thrown(() => runtime!.delegate({ tasks: [{ goal: 'one' }, { goal: 'two' }], background: true, idempotencyKey: 'call_7' }))).toBeInstanceOf(BadArgumentError);
  });
});

describe('idempotency keys in a file store', () => {
  it('a new runtime restored from the store answers a replay with the same handle and delegation', async () => {
    const directory = temporary();
    runtime = createRuntime({ run, store: fileStore(directory) });
    const spawned = runtime.spawn({ message: 'hello', idempotencyKey: 'call_0' });
    const delegation = runtime.delegate({ goal: 'sum it up', idempotencyKey: 'call_1' });
    const outcome = await delegation.result;
    await runtime.wait(spawned.id);
    await runtime.shutdown({ keep: true });

    second = createRuntime({ run, store: fileStore(directory) });
    expect(second.spawn({ message: 'hello', idempotencyKey: 'call_0' })).toEqual(spawned);
    const replayed = second.delegate({ goal: 'sum it up', idempotencyKey: 'call_1' });
    expect([replayed.delegationId, replayed.handleIds]).toEqual([delegation.delegationId, delegation.handleIds]);
    expect(await replayed.result).toEqual(outcome);
    expect(second.list()).toHaveLength(2);
    expect(thrown(() => second!.spawn({ message: 'other', idempotencyKey: 'call_0' }))).toBeInstanceOf(BadArgumentError);
  });

  it('a delegation still running when its process stopped is replayed with the result it ends with', async () => {
    const directory = temporary();
    const holding: AgentRun = (input, { signal }) =>
      input.startsWith('hold') ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))) : run(input, { signal } as never);
    runtime = createRuntime({ run: holding, store: fileStore(directory) });
    const delegation = runtime.delegate({ tasks: [{ goal: 'quick' }, { goal: 'hold on' }], background: true, idempotencyKey: 'bg' });
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.shutdown({ keep: true });

    second = createRuntime({ run: holding, store: fileStore(directory) });
    const replayed = second.delegate({ tasks: [{ goal: 'quick' }, { goal: 'hold on' }], background: true, idempotencyKey: 'bg' });
    expect(replayed.delegationId).toBe(delegation.delegationId);
    const outcome = await replayed.result;
    expect(outcome).toEqual(await second.delegation(delegation.delegationId));
    expect(outcome.results.map((result) => result.status)).toEqual(['completed', 'interrupted']);
    expect(second.list()).toHaveLength(2);
  });

  it('a new process running the same tool calls gets the same answers and no new child', { timeout: 60_000 }, async () => {
    const directory = temporary();
    const runOnce = async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'test/fixtures/idempotent-calls.mjs'), directory]);
      const answers = JSON.parse(stdout) as { spawned: string; delegated: string; handles: string[] };
      return { ...answers, spawned: atAnyTime(answers.spawned) };
    };
    const first = await runOnce();
    expect(JSON.parse(first.spawned)).toMatchObject({ ok: true, handle: { id: 'counter' } });
    expect(JSON.parse(first.delegated)).toMatchObject({ ok: true, results: [{ summary: 'done: first' }, { summary: 'done: second' }] });
    expect(first.handles).toHaveLength(3);
    const again = await runOnce();
    expect(again).toEqual(first);
  });
});

describe('the agent tools use the tool-call id', () => {
  it('the dispatcher passes the call id: the same call twice is one child; calls of two agents with one id are two', async () => {
    runtime = createRuntime({ run, maxSpawnDepth: 2 });
    const parent = runtime.spawn({ name: 'lead', role: 'orchestrator' });
    const root = createToolDispatcher(runtime, createAgentTools(runtime), { handleId: null });
    const lead = createToolDispatcher(runtime, createAgentTools(runtime), { handleId: parent.id });
    const args = JSON.stringify({ message: 'hello' });
    const first = atAnyTime(await root('spawn_agent', args, { callId: 'call_0' }));
    expect(atAnyTime(await root('spawn_agent', args, { callId: 'call_0' }))).toBe(first);
    const fromLead = await lead('spawn_agent', args, { callId: 'call_0' });
    const idOf = (answer: string) => (JSON.parse(answer) as { handle: { id: string } }).handle.id;
    expect(idOf(fromLead)).not.toBe(idOf(first));
    // Other arguments under the same id: refused, worded for the model.
    expect(JSON.parse(await root('spawn_agent', JSON.stringify({ message: 'bye' }), { callId: 'call_0' }))).toMatchObject({ ok: false, error: { code: 'bad_argument', field: 'idempotencyKey' } });
    // A nickname the first run of the call took is not "taken" for its replay.
    const named = atAnyTime(await root('spawn_agent', JSON.stringify({ nickname: 'scout' }), { callId: 'call_1' }));
    expect(atAnyTime(await root('spawn_agent', JSON.stringify({ nickname: 'scout' }), { callId: 'call_1' }))).toBe(named);
    expect(JSON.parse(await root('spawn_agent', JSON.stringify({ nickname: 'scout' }), { callId: 'call_2' }))).toMatchObject({ ok: false, error: { code: 'name_taken' } });
    expect(runtime.list()).toHaveLength(4);
  });

  it('a model loop run again with the same call gets the same delegation; an id reused by later turns is a new call', { timeout: 30_000 }, async () => {
    // Every response numbers its calls from call_0, as some servers do.
    const server = await startFakeServer({
      script: (request) => {
        const turn = describeConversation(request);
        if (turn.systemText.includes('subagent') && !turn.toolNames.includes('delegate_task')) return reply.text(`child: ${turn.lastUserText}`);
        if (turn.lastUserText === 'twice' && turn.assistantTurns < 2) return reply.toolCall('spawn_agent', { message: 'a job' }, { id: 'call_0' });
        if (turn.lastUserText === 'delegate' && turn.assistantTurns === 0) return reply.toolCall('delegate_task', { goal: 'check the logs', background: false }, { id: 'call_0' });
        return reply.text('done');
      },
    });
    try {
      runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), model: 'fake-model', logger: 'error' });
      // The same conversation run twice, as an agent loop restarted would: one delegation, one child.
      expect(await runtime.runAgent('delegate')).toMatchObject({ text: 'done' });
      expect(await runtime.runAgent('delegate')).toMatchObject({ text: 'done' });
      expect(runtime.list()).toHaveLength(1);
      const toolAnswers = server.requests.filter((request) => request.body.messages.at(-1)?.role === 'tool').map((request) => request.body.messages.at(-1)!.content);
      expect(toolAnswers).toHaveLength(2);
      expect(toolAnswers[1]).toBe(toolAnswers[0]);
      // Two turns of one conversation, both `call_0`, and another conversation's `call_0`: new calls, new children.
      await runtime.runAgent('twice');
      expect(runtime.list()).toHaveLength(3);
      const answers = server.requests.filter((request) => request.body.messages.at(-1)?.role === 'tool').map((request) => JSON.stringify(request.body.messages.at(-1)));
      expect(answers.filter((answer) => answer.includes('\\"ok\\":false'))).toEqual([]);
      expect(answers).toHaveLength(4);
    } finally {
      await server.close();
    }
  });
});
