import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { createAgentTools } from '../../src/agent-tools/agent-tools.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { defineAgentType } from '../../src/delegation/agent-types.js';
import type { DelegationResult } from '../../src/types.js';
import { BadArgumentError } from '../../src/errors.js';
import { createWriteTools } from '../../src/toolkit/write-tools.js';
import { messageText, reply, scriptByConversation } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { useFakeServers } from '../support/fake-servers.js';

const fakeServer = useFakeServers();
let runtime: SubagentsRuntime | undefined;
closeAfterEach(() => [runtime]);

let workDir = '';
beforeEach(() => {
  workDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-checked-')));
});
afterEach(() => rmSync(workDir, { recursive: true, force: true }));

const usage = { promptTokens: 10, completionTokens: 4 };
const countSchema = z.object({ count: z.number().int(), items: z.array(z.string()) });
const REFUSED = 'Your answer was refused';

/** Every user message of a request, as text. */
const userTexts = (server: FakeServer, index: number) =>
  (server.requests[index]?.body.messages ?? []).filter((message) => message.role === 'user').map((message) => messageText(message));

describe('output schema', () => {
  it('gives the child one more turn with the validation error, then reports the parsed value', async () => {
    const { server, client } = await fakeServer({
      script: scriptByConversation((turn) =>
        turn.lastUserText.startsWith(REFUSED)
          ? reply.text('{"count": 2, "items": ["a", "b"]}', { usage })
          : reply.text('{"count": "two", "items": ["a", "b"]}', { usage }),
      ),
    });
    runtime = createRuntime({ client, model: 'fake-model' });
    const { results } = await runtime.delegate({ goal: 'Count the items', outputSchema: countSchema }).result;
    const result = results[0]!;
    expect(result.status).toBe('completed');
    expect(result.value).toEqual({ count: 2, items: ['a', 'b'] });
    expect(result.schemaError).toBeNull();
    // The retry is a real model call, counted in the task's calls and tokens.
    expect(server.requests).toHaveLength(2);
    expect(result.apiCalls).toBe(2);
    expect(result.usage).toEqual({ inputTokens: 20, outputTokens: 8 });
    // The goal told the child the JSON Schema; the one extra request carries the validation error.
    expect(userTexts(server, 0)[0]).toContain('"required":["count","items"]');
    const retry = userTexts(server, 1).at(-1)!;
    expect(retry).toContain(REFUSED);
    expect(retry).toContain('- `count`: Invalid input: expected number, received string');
    // The whole first exchange is still in the child's conversation.
    expect(JSON.stringify(server.requests[1]?.body.messages)).toContain('\\"count\\": \\"two\\"');
    expect(runtime.get(result.handleId).runs).toBe(2);
  });

  it('a schema that fails twice ends the task in error with schema_mismatch and the issues', async () => {
    const { server, client } = await fakeServer({ script: () => reply.text('{"count": 1.5, "items": "a"}', { usage }) });
    runtime = createRuntime({ client, model: 'fake-model' });
    const { results } = await runtime.delegate({ goal: 'Count the items', outputSchema: countSchema }).result;
    const result = results[0]!;
    expect(server.requests).toHaveLength(2);
    expect(result.status).toBe('error');
    expect(result.errorCode).toBe('schema_mismatch');
    // The run itself did run to its end: only the task failed.
    expect(result.exitReason).toBe('completed');
    expect(runtime.get(result.handleId).lastOutcome).toBe('completed');
    expect(result.value).toBeNull();
    expect(result.schemaError).toMatchObject({ attempts: 2, answer: '{"count": 1.5, "items": "a"}' });
    expect(result.schemaError?.issues.map((issue) => issue.path)).toEqual(['count', 'items']);
    expect(result.error).toMatch(/^The answer does not match the output schema \(2 attempts\): count: .*; items: /);
    expect(result.summary).toBe(result.error);
  });

  it('reads a fenced json block from an answer with prose around it, without a retry', async () => {
    const answer = 'Here is the result:\n\n```json\n{"count": 1, "items": ["x"]}\n```\nDone.';
    const { server, client } = await fakeServer({ script: () => reply.text(answer) });
    runtime = createRuntime({ client, model: 'fake-model' });
    const { results } = await runtime.delegate({ tasks: [{ goal: 'Count', outputSchema: countSchema }] }).result;
    expect(server.requests).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'completed', value: { count: 1, items: ['x'] }, summary: answer });
  });

  it('an answer that is not JSON at all is named as such in the retry', async () => {
    const { server, client } = await fakeServer({
      script: scriptByConversation((turn) => (turn.lastUserText.startsWith(REFUSED) ? reply.text('{"count":0,"items":[]}') : reply.text('There are no items.'))),
    });
    runtime = createRuntime({ client, model: 'fake-model' });
    const { results } = await runtime.delegate({ goal: 'Count', outputSchema: countSchema }).result;
    expect(results[0]?.value).toEqual({ count: 0, items: [] });
    expect(userTexts(server, 1).at(-1)).toMatch(/- `\(answer\)`: it is not JSON \(.*\); expected plain JSON or one ```json block/);
  });
});

/** A child that writes `notes.txt` with write_file when its goal says "write", then claims it did either way. */
function writerScript() {
  return scriptByConversation((turn) => {
    if (turn.lastRole === 'tool') return reply.text('I wrote notes.txt.');
    return turn.lastUserText.includes('really write') ? reply.toolCall('write_file', { path: 'notes.txt', content: 'hello\n' }) : reply.text('I wrote notes.txt.');
  });
}

const notesExist = () =>
  existsSync(path.join(workDir, 'notes.txt')) ? { ok: true, reason: 'notes.txt is on disk' } : { ok: false, reason: 'notes.txt is not on disk' };

describe('evidence and verify', () => {
  it('verify rejects a child that claims a file it did not write; the outcome stays completed', async () => {
    const { client } = await fakeServer({ script: writerScript() });
    runtime = createRuntime({ client, model: 'fake-model', cwd: workDir, tools: [...createWriteTools().tools] });
    const { results } = await runtime.delegate({ goal: 'Write notes.txt', verify: notesExist }).result;
    expect(results[0]).toMatchObject({ status: 'completed', summary: 'I wrote notes.txt.', verified: false, verificationReason: 'notes.txt is not on disk', evidence: [] });
  });

  it('write_file reports the file as evidence; verify sees it and accepts', async () => {
    const { client } = await fakeServer({ script: writerScript() });
    runtime = createRuntime({ client, model: 'fake-model', cwd: workDir, tools: [...createWriteTools().tools] });
    const seen: DelegationResult[] = [];
    const { results } = await runtime.delegate({
      goal: 'really write notes.txt',
      verify: (result) => {
        seen.push(result);
        return result.evidence.some((item) => item.kind === 'file' && existsSync(item.value));
      },
    }).result;
    const file = path.join(workDir, 'notes.txt');
    expect(results[0]).toMatchObject({ status: 'completed', verified: true, verificationReason: 'The verify function accepted the result.', evidence: [{ kind: 'file', value: file }] });
    expect(results[0]?.toolTrace[0]).toMatchObject({ tool: 'write_file', ok: true, evidence: [{ kind: 'file', value: file }] });
    expect(seen[0]?.evidence).toEqual([{ kind: 'file', value: file }]);
  });

  it('requireEvidence on an agent type: verified with evidence, not verified without; null with no checks', async () => {
    const { client } = await fakeServer({ script: writerScript() });
    const writer = defineAgentType({ name: 'writer', description: 'Writes files.', maxIterations: 5, promptFocus: 'Write what is asked.', requireEvidence: true });
    runtime = createRuntime({ client, model: 'fake-model', cwd: workDir, tools: [...createWriteTools().tools], agentTypes: [writer] });
    const { results } = await runtime.delegate({
      tasks: [
        { goal: 'really write notes.txt', agentType: 'writer' },
        { goal: 'Write notes.txt', agentType: 'writer' },
        { goal: 'Write notes.txt' },
        // A task's own field overrides its agent type's.
        { goal: 'Write notes.txt', agentType: 'writer', requireEvidence: false },
      ],
    }).result;
    expect(results.map((result) => result.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(results[0]).toMatchObject({ verified: true, verificationReason: 'Evidence reported: 1 item.' });
    expect(results[1]?.verified).toBe(false);
    expect(results[1]?.verificationReason).toMatch(/^Not verified: evidence was required and its tool calls reported none/);
    expect(results[2]).toMatchObject({ verified: null, verificationReason: null });
    expect(results[3]).toMatchObject({ verified: null, verificationReason: null });
  });

  it('a task that did not complete is not verified, and verify is not called', async () => {
    const { client } = await fakeServer({ script: () => reply.status(500) });
    runtime = createRuntime({ client, model: 'fake-model', maxRetries: 0 });
    let called = false;
    const { results } = await runtime.delegate({ goal: 'Anything', verify: () => (called = true) }).result;
    expect(results[0]?.status).toBe('error');
    expect(results[0]).toMatchObject({ verified: false, verificationReason: 'Not verified: the task ended `error` before its result could be checked.' });
    expect(called).toBe(false);
  });

  it('a verify that throws rejects the result with the reason', async () => {
    const { client } = await fakeServer({ script: () => reply.text('done') });
    runtime = createRuntime({ client, model: 'fake-model' });
    const { results } = await runtime.delegate({
      goal: 'Anything',
      verify: async () => {
        await Promise.resolve();
        throw new Error('the id does not exist');
      },
    }).result;
    expect(results[0]).toMatchObject({ status: 'completed', verified: false, verificationReason: 'Not verified: the verify function threw: the id does not exist' });
  });
});

describe('the model sees the checks', () => {
  it('delegate_task and wait_agent show verified, the reason and the evidence; the model cannot give checks', async () => {
    const { client } = await fakeServer({ script: writerScript() });
    const writer = defineAgentType({ name: 'writer', description: 'Writes files.', maxIterations: 5, promptFocus: 'Write what is asked.', requireEvidence: true });
    runtime = createRuntime({ client, model: 'fake-model', cwd: workDir, tools: [...createWriteTools().tools], agentTypes: [writer] });
    const dispatch = createToolDispatcher(runtime, createAgentTools(runtime), { handleId: null });
    const answer = JSON.parse(await dispatch('delegate_task', JSON.stringify({ tasks: [{ goal: 'really write notes.txt', agent_type: 'writer' }, { goal: 'Write notes.txt', agent_type: 'writer' }] }))) as {
      results: Array<Record<string, unknown>>;
    };
    expect(answer.results[0]).toMatchObject({ verified: true, evidence: { count: 1, items: [`file: ${path.join(workDir, 'notes.txt')}`] } });
    expect(answer.results[1]).toMatchObject({ verified: false, verification: expect.stringMatching(/^Not verified: evidence was required/) as string });
    expect(answer.results[1]).not.toHaveProperty('evidence');

    const refused = JSON.parse(await dispatch('delegate_task', JSON.stringify({ tasks: [{ goal: 'x', requireEvidence: true }] }))) as { ok: boolean; error: { field: string } };
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad_argument', field: 'tasks[0].requireEvidence' } });

    const started = runtime.delegate({ goal: 'Write notes.txt', agentType: 'writer', background: true });
    const waited = JSON.parse(await dispatch('wait_agent', JSON.stringify({ targets: started.handleIds, timeout_ms: 10_000 }))) as { completed: Array<Record<string, unknown>> };
    expect(waited.completed[0]).toMatchObject({ id: started.handleIds[0], taskStatus: 'completed', verified: false, verification: expect.stringMatching(/^Not verified/) as string });
  });

  it('wait_agent reports a task whose answer is being retried once the retry ended', async () => {
    const { client } = await fakeServer({
      script: scriptByConversation((turn) => (turn.lastUserText.startsWith(REFUSED) ? reply.text('{"count":1,"items":["a"]}') : reply.text('one item'))),
    });
    runtime = createRuntime({ client, model: 'fake-model' });
    const dispatch = createToolDispatcher(runtime, createAgentTools(runtime), { handleId: null });
    const started = runtime.delegate({ goal: 'Count', outputSchema: countSchema, background: true });
    const waited = JSON.parse(await dispatch('wait_agent', JSON.stringify({ targets: started.handleIds, timeout_ms: 10_000 }))) as {
      completed: Array<Record<string, unknown>>;
      pending: unknown[];
    };
    expect(waited.pending).toEqual([]);
    expect(waited.completed[0]).toMatchObject({ taskStatus: 'completed', runs: 2, lastOutput: '{"count":1,"items":["a"]}' });
  });
});

describe('bad checks', () => {
  it('refuses an output schema that is not a zod schema, a verify that is not a function, a requireEvidence that is not a boolean', async () => {
    const { client } = await fakeServer({ script: () => reply.text('unused') });
    runtime = createRuntime({ client, model: 'fake-model' });
    const refusal = (request: Parameters<SubagentsRuntime['delegate']>[0]) => {
      try {
        runtime!.delegate(request);
      } catch (error) {
        return error;
      }
      return null;
    };
    const notZod = refusal({ goal: 'x', outputSchema: { type: 'object' } as unknown as z.ZodType });
    expect(notZod).toBeInstanceOf(BadArgumentError);
    expect(notZod).toMatchObject({ argument: 'outputSchema', message: expect.stringContaining('a zod schema') as string });
    expect(refusal({ tasks: [{ goal: 'x' }, { goal: 'y', verify: 'yes' as unknown as () => boolean }] })).toMatchObject({ argument: 'tasks[1].verify', expected: 'a function (result) => boolean | { ok, reason }' });
    expect(refusal({ goal: 'x', requireEvidence: 'yes' as unknown as boolean })).toMatchObject({ argument: 'requireEvidence', expected: 'a boolean' });
    expect(runtime.list()).toEqual([]);
    expect(() => defineAgentType({ name: 'checker', description: 'd', maxIterations: 1, promptFocus: 'p', verify: 1 as unknown as () => boolean })).toThrow(
      expect.objectContaining({ argument: 'checker.verify' }) as Error,
    );
    expect(() => defineAgentType({ name: 'checker', description: 'd', maxIterations: 1, promptFocus: 'p', outputSchema: 'json' as unknown as z.ZodType })).toThrow(
      expect.objectContaining({ argument: 'checker.outputSchema' }) as Error,
    );
  });
});
