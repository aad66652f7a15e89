import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/runtime-api.js';
import { defineAgentType } from '../../src/delegation/agent-types.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { BadArgumentError, ConversationTooLongError } from '../../src/errors.js';
import { fitConversation } from '../../src/model/conversation-window.js';
import { describeConversation, messageText, reply } from '../../src/testing/index.js';
import type { RecordedRequest } from '../../src/testing/index.js';
import type { ChatMessage } from '../../src/types.js';
import { closeAfterEach } from '../support/cleanup.js';
import { useFakeServers } from '../support/fake-servers.js';

const start = useFakeServers();
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime]);

let root: string;
beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-cwd-')));
  mkdirSync(path.join(root, 'pkg', 'src'), { recursive: true });
  mkdirSync(path.join(root, 'other'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tool that answers with the working directory it was given. */
const whereAmI = defineTool({
  name: 'where_am_i',
  toolset: 'read',
  description: 'Says the working directory of the calling agent.',
  parameters: z.object({}),
  execute: (_args, context) => context.cwd,
});

const isRoot = (request: RecordedRequest) => describeConversation(request).systemText.startsWith('You are the root agent');
const userTexts = (request: RecordedRequest) => request.body.messages.filter((message) => message.role === 'user').map((message) => messageText(message));

describe('working directories', () => {
  it('the root agent works in the runtime cwd; a child in its own, given relative to its parent; tools get it', async () => {
    const { client, server } = await start({
      script: (request) => {
        const turn = describeConversation(request);
        return turn.lastRole === 'tool' ? reply.text(`in ${turn.toolResults[0]!.content}`) : reply.toolCall('where_am_i', {});
      },
    });
    runtime = createRuntime({ client, model: 'm', tools: [whereAmI], cwd: root, maxSpawnDepth: 2 });
    expect(runtime.options.cwd).toBe(root);
    expect(runtime.workingDirectory(null)).toBe(root);
    const lead = runtime.spawn({ name: 'lead', cwd: 'pkg', role: 'orchestrator' });
    expect(runtime.workingDirectory('lead')).toBe(path.join(root, 'pkg'));
    // A grandchild's cwd is relative to its parent's, and defaults to it.
    const worker = runtime.spawn({ name: 'worker', parentId: lead.id, cwd: 'src', message: 'where?' });
    const idle = runtime.spawn({ name: 'idle', parentId: lead.id });
    expect(runtime.workingDirectory(idle.id)).toBe(path.join(root, 'pkg'));
    expect((await runtime.wait(worker.id)).completed[0]?.lastOutput).toBe(`in ${path.join(root, 'pkg', 'src')}`);
    // The child's prompt names its directory; the process-wide one never moved.
    const workerRequest = server.requests.find((request) => userTexts(request).includes('where?'))!;
    expect(describeConversation(workerRequest).systemText).toContain(`Your working directory is \`${path.join(root, 'pkg', 'src')}\``);
    expect(process.cwd()).not.toBe(path.join(root, 'pkg', 'src'));
  });

  it('a directory outside the parent, or one that does not exist, is refused before anything starts', async () => {
    const { client, server } = await start({ script: () => reply.text('never') });
    runtime = createRuntime({ client, model: 'm', cwd: path.join(root, 'pkg') });
    expect(() => runtime!.spawn({ cwd: '..' })).toThrow(BadArgumentError);
    expect(() => runtime!.spawn({ cwd: path.join(root, 'other') })).toThrow(/Expected `cwd` to be a directory inside the parent agent's working directory/);
    expect(() => runtime!.delegate({ tasks: [{ goal: 'a' }, { goal: 'b', cwd: 'missing' }] })).toThrow(/`tasks\[1\]\.cwd`/);
    expect(() => createRuntime({ client, model: 'm', cwd: path.join(root, 'nope') })).toThrow(/Expected `cwd` to be the path of an existing directory/);
    expect(runtime.list()).toHaveLength(0);
    expect(server.requests).toHaveLength(0);
  });

  it('a model-given working_dir outside its own is a tool error the model reads, naming working_dir', async () => {
    const { client, server } = await start({
      script: (request) => {
        const turn = describeConversation(request);
        if (turn.lastRole === 'user') return reply.toolCall('delegate_task', { goal: 'look around', working_dir: '../other' });
        return reply.text('done');
      },
    });
    runtime = createRuntime({ client, model: 'm', cwd: path.join(root, 'pkg') });
    const answer = await runtime.runAgent('go');
    expect(answer.outcome).toBe('completed');
    const result = JSON.parse(describeConversation(server.requests[1]!).toolResults[0]!.content) as { ok: boolean; error: { code: string; field: string; message: string } };
    expect(result).toMatchObject({ ok: false, error: { code: 'bad_argument', field: 'working_dir' } });
    expect(result.error.message).toContain("inside the parent agent's working directory");
    expect(runtime.list()).toHaveLength(0);
  });

  it('an agent type carries its own working directory and system prompt', async () => {
    const { client, server } = await start({ script: () => reply.text('reviewed') });
    const reviewer = defineAgentType({
      name: 'review',
      description: 'Reviews code.',
      maxIterations: 5,
      promptFocus: 'List each problem with file and line.',
      systemPrompt: 'You are a code reviewer with a sharp eye.',
      cwd: 'pkg/src',
    });
    runtime = createRuntime({ client, model: 'm', cwd: root, agentTypes: [reviewer] });
    const { results } = await runtime.delegate({ goal: 'review it', agentType: 'review' }).result;
    expect(results[0]).toMatchObject({ status: 'completed', summary: 'reviewed' });
    expect(runtime.workingDirectory(results[0]!.handleId)).toBe(path.join(root, 'pkg', 'src'));
    const system = describeConversation(server.requests[0]!).systemText;
    expect(system.startsWith('You are a code reviewer with a sharp eye.')).toBe(true);
    expect(system).toContain('List each problem with file and line.');
    expect(() => defineAgentType({ ...reviewer, systemPrompt: '  ' })).toThrow(/review\.systemPrompt/);
  });
});

describe('context modes', () => {
  /** The root agent chats twice, then spawns a child with the given context mode; the child answers. */
  async function forkFrom(contextMode: unknown) {
    const { client, server } = await start({
      script: (request) => {
        const turn = describeConversation(request);
        if (!isRoot(request)) return reply.text('child done');
        if (turn.lastRole === 'user') return reply.toolCall('where_am_i', {}, { id: 'call_where' });
        if (turn.toolResults.some((result) => result.content.includes('child done'))) return reply.text('root done');
        return reply.toolCall('delegate_task', { goal: 'the child goal', context_mode: contextMode });
      },
    });
    runtime = createRuntime({ client, model: 'm', tools: [whereAmI], cwd: root });
    const answer = await runtime.runAgent('the root question');
    return { answer, server };
  }

  it("'fork' gives the child the parent's messages up to, not including, the call that made it, after its own system prompt", async () => {
    const { answer, server } = await forkFrom('fork');
    expect(answer.outcome).toBe('completed');
    const child = server.requests.find((request) => !isRoot(request))!;
    const messages = child.body.messages;
    expect(messages[0]).toMatchObject({ role: 'system' });
    expect(messageText(messages[0]!)).toMatch(/^You are a subagent/);
    expect(messageText(messages[0]!)).toContain("copy of the delegating agent's conversation");
    // The root's user message, its where_am_i call and result; not its system prompt, not the delegate_task call.
    expect(messages.slice(1).map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(messages[1]).toMatchObject({ role: 'user', content: 'the root question' });
    expect(messages[3]).toMatchObject({ role: 'tool', tool_call_id: 'call_where', content: root });
    expect(messages[4]).toMatchObject({ role: 'user', content: 'the child goal' });
    expect(JSON.stringify(messages)).not.toContain('delegate_task');
  });

  it('{ lastMessages: n } keeps the last n, never starting on an orphaned tool result', async () => {
    const { server } = await forkFrom({ lastMessages: 1 });
    const child = server.requests.find((request) => !isRoot(request))!;
    // The last message is the tool result; without its call it is dropped, so nothing is inherited.
    expect(child.body.messages.map((message) => message.role)).toEqual(['system', 'user']);
    const two = await forkFrom({ lastMessages: 2 });
    const second = two.server.requests.find((request) => !isRoot(request))!;
    expect(second.body.messages.map((message) => message.role)).toEqual(['system', 'assistant', 'tool', 'user']);
  });

  it("'fresh' (the default) inherits nothing; 'fork' with no parent agent conversation is refused", async () => {
    const { server } = await forkFrom(undefined);
    const child = server.requests.find((request) => !isRoot(request))!;
    expect(child.body.messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(messageText(child.body.messages[0]!)).toContain('fresh conversation');
    expect(() => runtime!.spawn({ contextMode: 'fork', message: 'x' })).toThrow(BadArgumentError);
    expect(() => runtime!.delegate({ goal: 'x', contextMode: 'fork' })).toThrow(/Expected `contextMode` to be 'fresh' here: there is no parent agent conversation/);
    expect(() => runtime!.spawn({ contextMode: { lastMessages: 0 } as never })).toThrow(/Expected `contextMode` to be 'fresh', 'fork' or \{ lastMessages: n \}/);
  });

  it("a handle's child forks the handle's own conversation, and a host may give one", async () => {
    const { client, server } = await start({ script: (request) => reply.text(`seen ${userTexts(request).join('|')}`) });
    runtime = createRuntime({ client, model: 'm', cwd: root, maxSpawnDepth: 2 });
    const lead = runtime.spawn({ name: 'lead', role: 'orchestrator', message: 'first input' });
    await runtime.wait(lead.id);
    const child = runtime.spawn({ parentId: 'lead', contextMode: 'fork', message: 'child input' });
    expect((await runtime.wait(child.id)).completed[0]?.lastOutput).toBe('seen first input|child input');
    const given: ChatMessage[] = [{ role: 'user', content: 'from the host' }, { role: 'assistant', content: 'noted' }];
    const hosted = runtime.spawn({ contextMode: 'fork', parentConversation: given, message: 'go' });
    expect((await runtime.wait(hosted.id)).completed[0]?.lastOutput).toBe('seen from the host|go');
    // What a child inherited is part of its conversation.
    expect(server.requests.at(-1)!.body.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });
});

describe('a bound on what a request carries', () => {
  const text = (role: 'user' | 'assistant', size: number, tag: string): ChatMessage => ({ role, content: `${tag}${'x'.repeat(size)}` });

  it('leaves out the oldest turns of a long conversation, keeping the system prompt and the input', async () => {
    const { client, server } = await start({ script: () => reply.text('y'.repeat(400)) });
    runtime = createRuntime({ client, model: 'm', cwd: root, maxConversationTokens: 400 });
    const handle = runtime.spawn({ message: 'input one' });
    await runtime.wait(handle.id);
    for (const input of ['input two', 'input three', 'input four']) {
      runtime.send(handle.id, input);
      await runtime.wait(handle.id);
    }
    const last = server.requests.at(-1)!.body.messages;
    expect(last[0]!.role).toBe('system');
    expect(last.at(-1)).toMatchObject({ role: 'user', content: 'input four' });
    // The oldest turns are gone from the request, the handle keeps them all.
    expect(userTexts(server.requests.at(-1)!)).not.toContain('input one');
    expect(JSON.stringify(last).length / 4).toBeLessThanOrEqual(400);
    expect(server.requests[1]!.body.messages.length).toBeGreaterThan(0);
    const status = runtime.get(handle.id);
    expect(status.status).toBe('completed');
  });

  it('keeps a tool call and its results together, and fails clearly when even the minimum does not fit', () => {
    const call: ChatMessage = { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 't', arguments: '{}' } }] };
    const result: ChatMessage = { role: 'tool', tool_call_id: 'c1', content: 'r'.repeat(200) };
    const messages: ChatMessage[] = [{ role: 'system', content: 'sys' }, text('user', 10, 'old'), call, result, text('user', 10, 'input'), text('assistant', 10, 'a')];
    const fitted = fitConversation(messages, 40, 4);
    // The call and its result are too big together: both are left out, never one alone.
    expect(fitted.map((message) => message.role)).toEqual(['system', 'user', 'assistant']);
    expect(fitted[1]!.content).toMatch(/^input/);
    expect(fitConversation(messages, 10_000, 4)).toBe(messages);
    expect(() => fitConversation(messages, 5, 4)).toThrow(ConversationTooLongError);
  });

  it('a run whose input alone is over the bound fails with conversation_too_long, and no request is sent', async () => {
    const { client, server } = await start({ script: () => reply.text('never') });
    runtime = createRuntime({ client, model: 'm', cwd: root, maxConversationTokens: 50 });
    const handle = runtime.spawn({ message: 'z'.repeat(2_000) });
    const ended = (await runtime.wait(handle.id)).completed[0];
    expect(ended).toMatchObject({ status: 'error', lastOutcome: 'error' });
    expect(ended?.error).toMatch(/over maxConversationTokens \(50\)/);
    const { results } = await runtime.delegate({ goal: 'z'.repeat(2_000) }).result;
    expect(results[0]).toMatchObject({ status: 'error', errorCode: 'conversation_too_long' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('inheritedMessages', () => {
  it('leaves out a tool call still open (and its results so far), so a fork is a valid conversation', async () => {
    const { inheritedMessages } = await import('../../src/delegation/context-mode.js');
    const call = (id: string) => ({ id, type: 'function' as const, function: { name: 't', arguments: '{}' } });
    const conversation: ChatMessage[] = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [call('a')] },
      { role: 'tool', tool_call_id: 'a', content: 'ra' },
      { role: 'assistant', content: null, tool_calls: [call('b'), call('c')] },
      { role: 'tool', tool_call_id: 'b', content: 'rb' },
    ];
    expect(inheritedMessages('fork', conversation, 'contextMode').map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(inheritedMessages({ lastMessages: 2 }, conversation, 'contextMode')).toEqual([conversation[2], conversation[3]]);
    expect(inheritedMessages('fresh', null, 'contextMode')).toEqual([]);
    expect(() => inheritedMessages('fork', null, 'tasks[0].contextMode')).toThrow(/`tasks\[0\]\.contextMode`/);
  });
});
