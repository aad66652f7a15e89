import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import { describeConversation, reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, RecordedRequest } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { lookup } from '../support/sample-tools.js';


let server: FakeServer | undefined;
let runtime: SubagentsRuntime | undefined;
closeAfterEach(() => [runtime, server]);

const isParent = (request: RecordedRequest) => describeConversation(request).systemText.startsWith('You are the root agent');
const toolNames = (request: RecordedRequest) => (request.body.tools ?? []).map((tool) => tool.function.name);

describe('the parent agent', () => {
  it('delegates a batch of three, gets the results in order, and answers', async () => {
    server = await startFakeServer({
      script: (request) => {
        const turn = describeConversation(request);
        if (isParent(request)) {
          if (turn.lastRole === 'user') {
            return reply.toolCall('delegate_task', { tasks: ['alpha', 'beta', 'gamma'].map((word) => ({ goal: `define the word ${word}` })) });
          }
          return reply.text(`final: ${turn.toolResults[0]?.content.length ?? 0} characters of results`);
        }
        const word = /word (\w+)/.exec(turn.lastUserText)?.[1] ?? '?';
        return turn.lastRole === 'tool' ? reply.text(`${word} means ${turn.toolResults[0]?.content}`) : reply.toolCall('lookup', { word });
      },
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake', tools: [lookup] });
    const answer = await runtime.runAgent('Define three words.');
    expect(answer.text).toMatch(/^final: \d+ characters of results$/);
    const parentRequests = server.requests.filter(isParent);
    expect(parentRequests).toHaveLength(2);
    // The parent's second request carries the three results, in task order.
    const toolMessage = describeConversation(parentRequests[1]!).toolResults[0]!.content;
    const results = (JSON.parse(toolMessage) as { results: Array<{ summary: string }> }).results;
    expect(results.map((result) => result.summary)).toEqual([
      'alpha means definition of alpha',
      'beta means definition of beta',
      'gamma means definition of gamma',
    ]);
    expect(toolNames(parentRequests[0]!)).toContain('delegate_task');
    // Leaf children never see delegation tools.
    for (const request of server.requests.filter((request) => !isParent(request))) {
      expect(toolNames(request)).toEqual(['lookup']);
    }
  });

  it('spawns an agent, queues input while it runs, waits, and closes it', async () => {
    let childCalls = 0;
    // The worker's first job answers only once send_input has been handled: the second job must queue.
    let releaseFirstJob: () => void = () => {};
    const firstJobReleased = new Promise<void>((resolve) => (releaseFirstJob = resolve));
    server = await startFakeServer({
      script: async (request) => {
        const turn = describeConversation(request);
        if (!isParent(request)) {
          childCalls += 1;
          if (turn.lastUserText === 'first job') await firstJobReleased;
          return reply.text(`child did: ${turn.lastUserText}`);
        }
        const step = turn.assistantTurns;
        if (step === 0) return reply.toolCall('spawn_agent', { message: 'first job', nickname: 'worker' });
        if (step === 1) return reply.toolCall('send_input', { target: 'worker', message: 'second job' });
        if (step === 2) releaseFirstJob();
        if (step === 2) return reply.toolCall('wait_agent', { targets: ['worker'], timeout_ms: 5000 });
        if (step === 3) return reply.toolCall('close_agent', { target: 'worker' });
        return reply.text('all done');
      },
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake' });
    const answer = await runtime.runAgent('Use a worker.');
    expect(answer.text).toBe('all done');
    const parentRequests = server.requests.filter(isParent);
    const results = parentRequests.slice(1).map((request) => JSON.parse(describeConversation(request).toolResults[0]!.content) as Record<string, unknown>);
    expect(JSON.stringify(results[1])).toContain('queued');
    expect(JSON.stringify(results[2])).toContain('child did: second job');
    expect(JSON.stringify(results[3])).toContain('"previousStatus":"completed"');
    expect(childCalls).toBe(2);
    expect(runtime.get('worker').status).toBe('closed');
  });

  it('puts a background delegation result into the parent conversation exactly once', async () => {
    server = await startFakeServer({
      script: (request) => {
        const turn = describeConversation(request);
        if (!isParent(request)) return reply.text('background result', { latencyMs: 30 });
        if (turn.assistantTurns === 0) return reply.toolCall('delegate_task', { goal: 'slow work', background: true });
        return reply.text(turn.lastRole === 'user' && turn.lastUserText.includes('background delegation') ? 'got it' : 'waiting');
      },
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake' });
    const answer = await runtime.runAgent('Start something in the background.');
    expect(answer.text).toBe('got it');
    const last = server.requests.filter(isParent).at(-1)!;
    const deliveries = last.body.messages.filter((message) => JSON.stringify(message).includes('[background delegation'));
    expect(deliveries).toHaveLength(1);
    expect(JSON.stringify(deliveries[0])).toContain('background result');
  });

  it('keeps a background result delivered into the conversation when the run that took it fails', async () => {
    server = await startFakeServer({
      script: (request) => {
        const turn = describeConversation(request);
        if (!isParent(request)) return reply.text('background result', { latencyMs: 30 });
        if (turn.assistantTurns === 0) return reply.toolCall('delegate_task', { goal: 'slow work', background: true });
        // The call that would read the delivered result fails.
        return turn.lastUserText.includes('background delegation') ? reply.status(500) : reply.text('waiting');
      },
    });
    runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake', maxRetries: 0 });
    const answer = await runtime.runAgent('Start something in the background.');
    expect(answer).toMatchObject({ outcome: 'error', text: '' });
    const delivered = answer.messages.filter((message) => JSON.stringify(message).includes('[background delegation'));
    expect(delivered).toHaveLength(1);
    expect(JSON.stringify(delivered[0])).toContain('background result');
    // The conversation is valid to go on from, and the root agent's own spend is counted with its subagents'.
    expect(answer.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(runtime.usage().total.inputTokens).toBeGreaterThan(runtime.usage(runtime.list()[0]!.id).total.inputTokens);
    expect(runtime.usage().own).toEqual(answer.usage);
  });
});
