import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import type { DelegationResult } from '../../src/delegation/delegation-types.js';
import { defineTool } from '../../src/toolkit/define-tool.js';
import { describeConversation, reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { estimateTokens } from '../../src/model/conversation-window.js';
import { closeAfterEach } from '../support/cleanup.js';
import { executeCode, lookup, shell } from '../support/sample-tools.js';


let server: FakeServer | undefined;
let runtime: SubagentsRuntime | undefined;
closeAfterEach(() => [runtime, server]);

function clientFor(fake: FakeServer) {
  return new OpenAI({ baseURL: fake.url, apiKey: 'test-key', maxRetries: 0 });
}

describe('delegate', () => {
  it('runs a batch of three children that each call a tool, results in input order', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        const word = /word (\w+)/.exec(turn.lastUserText)?.[1] ?? 'none';
        return turn.lastRole === 'tool'
          ? reply.text(`answer for ${word}: ${turn.toolResults[0]?.content}`, { usage: { promptTokens: 20, completionTokens: 5 } })
          : reply.toolCall('lookup', { word }, { usage: { promptTokens: 10, completionTokens: 3 } });
      }),
    });
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', tools: [lookup, shell, executeCode] });
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const outcome = await runtime.delegate({
      tasks: [{ goal: 'define word alpha', toolsets: ['read'] }, { goal: 'define word beta' }, { goal: 'define word gamma', toolsets: ['read', 'web'] }],
    }).result;
    expect(outcome.results.map((result) => result.summary)).toEqual([
      'answer for alpha: definition of alpha',
      'answer for beta: definition of beta',
      'answer for gamma: definition of gamma',
    ]);
    for (const result of outcome.results) {
      expect(result.status).toBe('completed');
      expect(result.exitReason).toBe('completed');
      expect(result.apiCalls).toBe(2);
      expect(result.usage).toEqual({ inputTokens: 30, outputTokens: 8 });
      expect(result.toolTrace).toEqual([
        { tool: 'lookup', argumentBytes: expect.any(Number) as number, resultBytes: expect.any(Number) as number, ok: true },
      ]);
      expect(result.toolTrace[0]?.resultBytes).toBe(Buffer.byteLength(`definition of ${result.goal.split(' ').pop()}`));
    }
    expect(outcome.results[2]?.deniedToolsets).toEqual(['web']);
    // Tools offered: never a blocked one; only the requested toolsets when asked.
    const offered = server.requests.map((request) => (request.body.tools ?? []).map((tool) => tool.function.name).sort());
    expect(offered.flat()).not.toContain('execute_code');
    const alphaRequests = server.requests.filter((request) => JSON.stringify(request.body.messages).includes('word alpha'));
    expect(alphaRequests.every((request) => (request.body.tools ?? []).map((tool) => tool.function.name).join() === 'lookup')).toBe(true);
    const types = new Set(events.map((event) => event.type));
    for (const type of ['spawn-request', 'handle-spawn', 'run-start', 'text-delta', 'tool-call-start', 'tool-call-end', 'run-end', 'delegation-end']) {
      expect(types.has(type as RuntimeEvent['type'])).toBe(true);
    }
  });

  it('interrupting during an in-flight model request aborts the HTTP request', async () => {
    server = await startFakeServer({ script: () => reply.hang() });
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model' });
    const stops: string[] = [];
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', onSubagentStop: (event) => stops.push(event.outcome) });
    const pending = runtime.delegate({ goal: 'wait forever' }).result;
    await server.waitForRequests(1);
    const [handle] = runtime.list();
    const aborted = new Promise((resolve) => server!.onAbort(resolve));
    runtime.interrupt(handle!.id);
    await aborted;
    const outcome = await pending;
    expect(server.requests[0]?.aborted).toBe(true);
    expect(outcome.results[0]?.status).toBe('interrupted');
    expect(outcome.results[0]?.exitReason).toBe('interrupted');
    expect(runtime.get(handle!.id).status).toBe('interrupted');
    expect(stops).toEqual(['interrupted']);
  });

  it('ends a child in error or timeout on faults while its siblings finish', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        const text = turn.lastUserText;
        // `Retry-After: 0`: the retries are made at once, so only the hanging child can reach the timeout.
        if (text.includes('rate')) return reply.status(429, { retryAfter: 0, body: { error: { message: 'slow down' } } });
        if (text.includes('server')) return reply.status(500);
        if (text.includes('cut')) return reply.cut(2, { content: 'partial answer that is long enough to be cut' });
        if (text.includes('malformed')) return reply.malformed();
        if (text.includes('slow')) return reply.hang();
        return reply.text('fine');
      }),
    });
    // Only the hanging child should reach the timeout; 4 s leaves the others room on a heavily loaded machine.
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', childTimeoutMs: 4000, maxConcurrentChildren: 6 });
    const outcome = await runtime.delegate({
      tasks: ['rate', 'server', 'cut', 'malformed', 'slow', 'ok'].map((goal) => ({ goal: `task ${goal}` })),
    }).result;
    const byGoal: Record<string, DelegationResult | undefined> = Object.fromEntries(
      outcome.results.map((result) => [result.goal.split(' ')[1] ?? '', result]),
    );
    expect(byGoal.rate?.status).toBe('error');
    expect(byGoal.rate?.error).toMatch(/429/);
    expect(byGoal.server?.status).toBe('error');
    expect(byGoal.cut?.status).toBe('error');
    expect(byGoal.malformed?.status).toBe('error');
    expect(byGoal.slow?.status).toBe('timeout');
    expect(byGoal.slow?.exitReason).toBe('timeout');
    expect(byGoal.slow?.error).toMatch(/childTimeoutMs \(4000 ms\)/);
    expect(byGoal.ok?.status).toBe('completed');
    expect(byGoal.ok?.summary).toBe('fine');
  });

  it('delivers a background delegation exactly once and refuses over the cap', async () => {
    server = await startFakeServer({ script: () => reply.text('bg done', { latencyMs: 30 }) });
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', maxBackground: 1 });
    const delivered: string[] = [];
    runtime.subscribe((event) => {
      if (event.type === 'delegation-end') delivered.push(event.delegationId);
    });
    const background = runtime.delegate({ goal: 'in background', background: true });
    expect(() => runtime!.delegate({ goal: 'second', background: true })).toThrow(/fewer than 1 background/);
    const waited = runtime.wait(background.handleIds, { timeoutMs: 5000 });
    const [outcome, waitResult] = await Promise.all([background.result, waited]);
    expect(outcome.results[0]?.summary).toBe('bg done');
    expect(waitResult.completed.map((handle) => handle.status)).toEqual(['completed']);
    // After shutdown nothing more can be delivered: count what was.
    expect(await runtime.delegation(background.delegationId)).toBe(outcome);
    await runtime.shutdown();
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toEqual([background.delegationId]);
    expect(runtime.activeBackground).toBe(0);
  });
});

describe('orchestrators', () => {
  const toolsOffered = (fake: FakeServer, marker: string) =>
    fake.requests
      .filter((request) => describeConversation(request).systemText.includes(marker))
      .map((request) => (request.body.tools ?? []).map((tool) => tool.function.name).sort());

  it('keeps delegate_task below the depth limit and loses it at the floor', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        if (turn.systemText.includes('nested-grandchild')) return reply.text('grandchild done');
        if (turn.lastRole === 'user' && turn.toolNames.includes('delegate_task')) {
          return reply.toolCall('delegate_task', { goal: 'nested-grandchild work' });
        }
        return reply.text(turn.lastRole === 'tool' ? `orchestrated: ${turn.toolResults[0]?.content.slice(0, 20)}` : 'leaf answer');
      }),
    });
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', tools: [lookup, executeCode], maxSpawnDepth: 2 });
    const deep = await runtime.delegate({ goal: 'orchestrate-deep', role: 'orchestrator' }).result;
    expect(deep.results[0]?.degradedToLeaf).toBe(false);
    expect(deep.results[0]?.summary).toMatch(/^orchestrated: /);
    const childTools = toolsOffered(server, 'orchestrate-deep')[0] ?? [];
    expect(childTools).toContain('delegate_task');
    expect(childTools).toContain('lookup');
    expect(childTools).not.toContain('execute_code');
    // The grandchild sits at depth 2 = maxSpawnDepth: no delegation tools, no blocked tools.
    const grandchildTools = toolsOffered(server, 'nested-grandchild').flat();
    expect(grandchildTools).not.toContain('delegate_task');
    expect(grandchildTools).not.toContain('spawn_agent');
    expect(grandchildTools).not.toContain('execute_code');
    // Tokens of the grandchild roll up into the orchestrator's result.
    const orchestrator = runtime.get(deep.results[0]!.handleId);
    const rolledUp = deep.results[0]!.usage;
    expect(rolledUp.inputTokens + rolledUp.outputTokens).toBeGreaterThan(orchestrator.usage.inputTokens + orchestrator.usage.outputTokens);

    runtime.setLimits({ maxSpawnDepth: 1 });
    const floor = await runtime.delegate({ goal: 'orchestrate-floor', role: 'orchestrator' }).result;
    expect(floor.results[0]?.degradedToLeaf).toBe(true);
    expect(floor.results[0]?.summary).toBe('leaf answer');
    expect(toolsOffered(server, 'orchestrate-floor').flat()).not.toContain('delegate_task');
  });
});

describe('stale detection', () => {
  it('ends a run that makes no progress with a timeout saying so', async () => {
    server = await startFakeServer({ script: () => reply.hang() });
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', staleTimeoutMs: 80 });
    const aborted = new Promise((resolve) => server!.onAbort(resolve));
    const outcome = await runtime.delegate({ goal: 'stuck' }).result;
    await aborted;
    expect(outcome.results[0]).toMatchObject({ status: 'timeout', exitReason: 'timeout' });
    expect(outcome.results[0]?.error).toMatch(/no model or tool progress for 80 ms \(staleTimeoutMs\)/);
    expect(server.requests[0]?.aborted).toBe(true);
  });

  it('does not count an orchestrator waiting for its background children as stale', async () => {
    server = await startFakeServer({
      script: scriptByConversation((turn) => {
        // The grandchild streams slowly but steadily: it makes progress, it is not stale.
        if (turn.systemText.includes('slow-grandchild')) return reply.text('g'.repeat(60), { chunkSize: 4, chunkDelayMs: 150 });
        if (turn.lastUserText.includes('[background delegation')) return reply.text('orchestrator got the result');
        if (turn.lastRole === 'user') return reply.toolCall('delegate_task', { goal: 'slow-grandchild work', background: true });
        return reply.text('waiting for the background work');
      }),
    });
    // The grandchild streams for ~2.3 s, steadily: longer than staleTimeoutMs, which the orchestrator waits through.
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', maxSpawnDepth: 2, staleTimeoutMs: 1000 });
    const outcome = await runtime.delegate({ goal: 'orchestrate in background', role: 'orchestrator' }).result;
    expect(outcome.results[0]).toMatchObject({ status: 'completed', summary: 'orchestrator got the result' });
  });
});

describe('token budget', () => {
  it('stops a run that spends more than maxRunTokens, before it runs more tools, and keeps what it spent', async () => {
    let toolRuns = 0;
    const counted = defineTool({
      name: 'counted',
      toolset: 'read',
      description: 'Counts its calls.',
      parameters: z.object({}),
      execute: () => String((toolRuns += 1)),
    });
    server = await startFakeServer({
      script: () => reply.toolCall('counted', {}, { usage: { promptTokens: 1000, completionTokens: 500 } }),
    });
    runtime = createRuntime({ client: clientFor(server), model: 'fake-model', tools: [counted], maxRunTokens: 4000 });
    const outcome = await runtime.delegate({ goal: 'spend forever' }).result;
    const [result] = outcome.results;
    expect(result).toMatchObject({ status: 'budget_exceeded', exitReason: 'budget_exceeded', apiCalls: 3, errorCode: 'budget_exceeded' });
    expect(runtime.get(result!.handleId).status).toBe('error');
    // Each request asked for no more than the run had left once its own (estimated) input is paid.
    const inputOf = (index: number) => (server!.requests[index]?.body.messages ?? []).reduce((sum, message) => sum + estimateTokens(message as never), 0);
    expect(server.requests.map((request) => request.body.max_completion_tokens)).toEqual([4000 - inputOf(0), 2500 - inputOf(1), 1000 - inputOf(2)]);
    expect(result?.error).toBe('The run spent 4500 tokens, over maxRunTokens (4000), and was stopped');
    expect((result?.usage.inputTokens ?? 0) + (result?.usage.outputTokens ?? 0)).toBe(4500);
    expect(toolRuns).toBe(2);
    expect(runtime.get(result!.handleId).usage).toEqual({ inputTokens: 3000, outputTokens: 1500 });
  });
});
