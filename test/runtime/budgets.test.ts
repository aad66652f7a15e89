import OpenAI from 'openai';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, createToolDispatcher, BudgetRefusedError, BadArgumentError, memoryStore } from '../../src/index.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { useFakeServers } from '../support/fake-servers.js';
import { estimateTokens } from '../../src/model/conversation-window.js';
import type { RecordedRequest } from '../../src/testing/index.js';

const serve = useFakeServers();
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

const tokens = (usage: { inputTokens: number; outputTokens: number }) => usage.inputTokens + usage.outputTokens;
/** The cap a request carries with `left` tokens left: what is left once its own (estimated) input is paid. */
const capFor = (request: RecordedRequest | undefined, left: number) => left - (request?.body.messages ?? []).reduce((sum, message) => sum + estimateTokens(message as never), 0);

describe('nested budgets', () => {
  it('splits half the remainder evenly over the children of a call when none asks, and settles each at close', async () => {
    const { server, client } = await serve({ script: () => reply.text('done', { usage: { promptTokens: 30, completionTokens: 10 } }) });
    runtime = createRuntime({ client, model: 'fake', budget: { tokens: 10_000 } });
    const firstDescription = createToolDispatcher(runtime, runtime.toolsOf(null), { handleId: null }).definitions().find((tool) => tool.function.name === 'delegate_task')?.function.description;
    const delegation = runtime.delegate({ tasks: [{ goal: 'a' }, { goal: 'b' }] });
    const reserved = delegation.handleIds.map((id) => runtime!.get(id).budget?.tokens);
    expect(reserved).toEqual([2500, 2500]);
    expect(runtime.budget(null)).toMatchObject({ tokens: 10_000, held: { tokens: 5000 }, remaining: { tokens: 5000 } });
    await delegation.result;
    // Each request asked for no more than its handle had left once its own input is paid.
    expect(server.requests.map((request) => request.body.max_completion_tokens)).toEqual(server.requests.map((request) => capFor(request, 2500)));
    for (const id of delegation.handleIds) runtime.close(id);
    // Settled: each child's spend replaced its reservation, so 4920 of the 5000 came back.
    expect(runtime.budget(null)).toMatchObject({ held: { tokens: 80 }, remaining: { tokens: 9920 } });
    expect(runtime.usage().budget?.remaining.tokens).toBe(9920);
    // The model is told it works within a budget, in words that stay the same as the numbers move (prompt caching).
    const described = createToolDispatcher(runtime, runtime.toolsOf(null), { handleId: null }).definitions().find((tool) => tool.function.name === 'delegate_task')?.function.description;
    expect(described).toContain('You work within a budget');
    expect(described).toBe(firstDescription);
  });

  it('refuses a spawn past its parent\'s remainder, naming the remainder, and a batch that does not fit before spawning any of it', async () => {
    const { client } = await serve({ script: () => reply.text('ok') });
    runtime = createRuntime({ client, model: 'fake', budget: { tokens: 1000 } });
    expect(() => runtime!.spawn({ budget: { tokens: 1200 } })).toThrow(BudgetRefusedError);
    expect(() => runtime!.spawn({ budget: { tokens: 1200 } })).toThrow(/1000 tokens of budget\.tokens/);
    expect(() => runtime!.delegate({ tasks: [{ goal: 'a', budget: { tokens: 600 } }, { goal: 'b', budget: { tokens: 600 } }] })).toThrow(BudgetRefusedError);
    expect(runtime.list()).toEqual([]);
    const child = runtime.spawn({ budget: { tokens: 900 } });
    expect(child.budget).toMatchObject({ tokens: 900, remaining: { tokens: 900 } });
    const local = runtime;
    const error = (() => {
      try {
        local.spawn({ budget: { tokens: 200 } });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toMatchObject({ code: 'budget_refused', dimension: 'tokens', requested: 200, remaining: 100 });
    expect(() => runtime!.spawn({ budget: { tokens: -1 } })).toThrow(BadArgumentError);
    expect(() => runtime!.spawn({ budget: { token: 5 } as never })).toThrow(/budget\.token/);
    expect(() => createRuntime({ run: async () => 'x', budget: { timeMs: 'soon' } as never })).toThrow(/budget\.timeMs/);
  });

  it('ends a run whose answer is cut off at the tokens left with budget_exceeded, keeps its spend, and cancels its subtree', async () => {
    const { server, client } = await serve({
      // The parent's second answer is cut off exactly at the cap its request carried, as a server does.
      script: (request) => {
        const orchestrator = (request.body.tools ?? []).some((tool) => tool.function.name === 'spawn_agent');
        if (!orchestrator) return reply.hang();
        if (request.body.messages.at(-1)?.role === 'user') return reply.toolCall('spawn_agent', { message: 'grandchild work' }, { usage: { promptTokens: 20, completionTokens: 10 } });
        return reply.text('I keep talking', { finishReason: 'length', usage: { promptTokens: 40, completionTokens: Number(request.body.max_completion_tokens) } });
      },
    });
    runtime = createRuntime({ client, model: 'fake', maxSpawnDepth: 2 });
    const parent = runtime.spawn({ role: 'orchestrator', budget: { tokens: 6000 }, message: 'work' });
    await server.waitForRequests(3, 10_000);
    const child = runtime.list({ parentId: parent.id })[0]!;
    expect(child.budget?.tokens).toBe(Math.floor((6000 - 30) / 2));
    // The parent's second request asked for what it had left: 6000 − 30 spent − 2985 held by its child, less its input.
    const second = server.requests.find((request) => request.body.messages.some((m) => m.role === 'tool'));
    const cap = capFor(second, 6000 - 30 - 2985);
    expect(second?.body.max_completion_tokens).toBe(cap);
    const ended = await runtime.wait(parent.id, { timeoutMs: 10_000 });
    expect(ended.completed[0]).toMatchObject({ status: 'error', lastOutcome: 'budget_exceeded', usage: { inputTokens: 60, outputTokens: 10 + cap } });
    expect(ended.completed[0]?.error).toContain(`cut off at the ${cap} tokens`);
    expect(ended.completed[0]?.partialOutput).toBe('I keep talking');
    const stopped = await runtime.wait(child.id, { timeoutMs: 10_000 });
    expect(stopped.completed[0]).toMatchObject({ status: 'cancelled', lastOutcome: 'cancelled' });
  });

  it('ends a run that spends past its budget with budget_exceeded as the spend arrives', async () => {
    const { client } = await serve({ script: () => reply.toolCall('nothing', {}, { usage: { promptTokens: 800, completionTokens: 300 } }) });
    runtime = createRuntime({ client, model: 'fake', budget: { tokens: 10_000 } });
    const { results } = await runtime.delegate({ goal: 'spend', budget: { tokens: 2000 } }).result;
    expect(results[0]).toMatchObject({ status: 'budget_exceeded', exitReason: 'budget_exceeded', apiCalls: 2, usage: { inputTokens: 1600, outputTokens: 600 } });
    expect(results[0]?.error).toMatch(/budget of 2000 tokens is spent \(2200/);
  });

  it('counts cost at the model\'s price, and refuses a cost budget for a model without one', async () => {
    const { client } = await serve({ script: () => reply.text('ok', { usage: { promptTokens: 1000, completionTokens: 1000 } }) });
    runtime = createRuntime({ client, model: 'fake', prices: { fake: { inputPerMillion: 1, outputPerMillion: 3 } }, budget: { costUsd: 1 } });
    const { results } = await runtime.delegate({ goal: 'spend' }).result;
    const child = runtime.get(results[0]!.handleId);
    expect(child.budget).toMatchObject({ costUsd: 0.5, spent: { tokens: 2000, costUsd: 0.004 } });
    expect(child.budget?.remaining.costUsd).toBeCloseTo(0.496, 9);
    expect(() => runtime!.spawn({ model: 'unpriced' })).toThrow(/a price for the child's model/);
  });
});

describe('budgets at the edges', () => {
  it('sends no cap while plenty is left, and stops before a request whose input alone is more than is left', async () => {
    const { server, client } = await serve({ script: () => reply.text('ok', { usage: { promptTokens: 10, completionTokens: 10 } }) });
    runtime = createRuntime({ client, model: 'fake', budget: { tokens: 100_000 } });
    await runtime.delegate({ goal: 'plenty' }).result;
    // 50 000 tokens left is more than any model answers: no cap a server could refuse as over its output limit.
    expect(server.requests[0]?.body.max_completion_tokens).toBeUndefined();
    const { results } = await runtime.delegate({ goal: 'x'.repeat(4000), budget: { tokens: 500 } }).result;
    expect(results[0]).toMatchObject({ status: 'budget_exceeded', apiCalls: 0 });
    expect(results[0]?.error).toMatch(/500 tokens left, and the next request alone carries about \d+/);
    expect(server.requests).toHaveLength(1);
  });

  it('reports a cut-off at the caller\'s own smaller max_tokens as a truncated answer, not as the budget', async () => {
    const { client } = await serve({ script: () => reply.text('cut', { finishReason: 'length', usage: { promptTokens: 10, completionTokens: 5 } }) });
    runtime = createRuntime({ client, model: 'fake', requestOptions: { max_tokens: 5 }, budget: { tokens: 10_000 } });
    const { results } = await runtime.delegate({ goal: 'answer' }).result;
    expect(results[0]).toMatchObject({ status: 'error', errorCode: 'model_output' });
  });

  it('refuses to resume a closed child whose reservation its parent can no longer hold', async () => {
    const { client } = await serve({ script: () => reply.text('ok') });
    runtime = createRuntime({ client, model: 'fake', budget: { tokens: 1000 } });
    const first = runtime.spawn({ budget: { tokens: 900 } });
    runtime.close(first.id);
    runtime.spawn({ budget: { tokens: 900 } });
    expect(() => runtime!.resume(first.id)).toThrow(BudgetRefusedError);
    expect(() => runtime!.resume(first.id)).toThrow(/was not resumed/);
    expect(runtime.get(first.id).status).toBe('closed');
    expect(runtime.budget(null)).toMatchObject({ held: { tokens: 900 } });
  });

  it('passes a settlement up through a parent that closed first', async () => {
    const { client } = await serve({ script: () => reply.hang() });
    runtime = createRuntime({ client, model: 'fake', maxSpawnDepth: 2, budget: { tokens: 1000 } });
    const parent = runtime.spawn({ budget: { tokens: 400 } });
    const child = runtime.spawn({ parentId: parent.id, budget: { tokens: 200 }, onParentStop: 'detach' });
    runtime.close(parent.id);
    expect(runtime.budget(null)).toMatchObject({ held: { tokens: 200 } });
    runtime.close(child.id);
    expect(runtime.budget(null)).toMatchObject({ held: { tokens: 0 }, remaining: { tokens: 1000 } });
  });

  it('keeps the root\'s holds when a runtime is restored from its store', async () => {
    const { client } = await serve({ script: () => reply.text('ok') });
    const store = memoryStore();
    const before = createRuntime({ client, model: 'fake', store, budget: { tokens: 1000 } });
    before.spawn({ budget: { tokens: 900 } });
    await before.shutdown({ keep: true });
    runtime = createRuntime({ client, model: 'fake', store, budget: { tokens: 1000 } });
    expect(runtime.budget(null)).toMatchObject({ held: { tokens: 900 }, remaining: { tokens: 100 } });
    expect(() => runtime!.spawn({ budget: { tokens: 900 } })).toThrow(BudgetRefusedError);
  });

  it('bounds times: a budget or an extension past what a timer can wait is refused, and a long deadline does not fire early', async () => {
    const { client } = await serve({ script: () => reply.hang() });
    runtime = createRuntime({ client, model: 'fake' });
    expect(() => runtime!.spawn({ budget: { timeMs: 1e16 } })).toThrow(/budget\.timeMs/);
    expect(() => createRuntime({ run: async () => 'x', budget: { timeMs: 1e16 } })).toThrow(/at most 2147483647 ms/);
    const long = runtime.spawn({ budget: { timeMs: 2_000_000_000 }, message: 'work' });
    expect(() => runtime!.extendDeadline(long.id, 3e9)).toThrow(BadArgumentError);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runtime.get(long.id).status).toBe('running');
    expect(() => createRuntime({ run: async () => 'x', budget: { costUsd: 1 } })).toThrow(/a price for the root agent's model/);
  });

  it('ends the root agent at the runtime\'s deadline with outcome timeout', async () => {
    const { client } = await serve({ script: () => reply.hang() });
    runtime = createRuntime({ client, model: 'fake', budget: { timeMs: 500 } });
    const answer = await runtime.runAgent('wait forever');
    expect(answer).toMatchObject({ outcome: 'timeout', exitReason: 'timeout' });
    expect(answer.error).toMatch(/missed the runtime's deadline/);
  });
});

describe('deadlines', () => {
  it('bounds a wait by its caller\'s deadline, and ends the descendants still working at it with timeout, keeping their partial output', async () => {
    const { client } = await serve({ script: () => reply.slowLoris({ content: 'partial words', intervalMs: 20 }) });
    runtime = createRuntime({ client, model: 'fake', budget: { timeMs: 1500 } });
    const dispatch = createToolDispatcher(runtime, runtime.toolsOf(null), { handleId: null });
    const child = runtime.spawn({ message: 'work' });
    expect(Date.parse(child.budget!.deadline!)).toBe(Date.parse(runtime.budget(null)!.deadline!));
    const answer = JSON.parse(await dispatch('wait_agent', JSON.stringify({ targets: [child.id], timeout_ms: 600_000 }))) as { ok: boolean; timeoutMs: number; clamped?: string };
    expect(answer.timeoutMs).toBeLessThanOrEqual(1500);
    expect(answer.clamped).toBe(`timeout_ms 600000 was lowered to your deadline of ${answer.timeoutMs} ms`);
    const ended = await runtime.wait(child.id, { timeoutMs: 10_000 });
    expect(ended.completed[0]).toMatchObject({ status: 'error', lastOutcome: 'timeout' });
    expect(ended.completed[0]?.error).toMatch(/missed its deadline/);
    expect(ended.completed[0]?.partialOutput).toMatch(/^partial/);
  });

  it('extends a child\'s deadline within its parent\'s, from code and through extend_deadline for the parent only', async () => {
    const { client } = await serve({ script: () => reply.hang() });
    runtime = createRuntime({ client, model: 'fake', budget: { timeMs: 60_000 }, maxSpawnDepth: 2 });
    const rootDeadline = Date.parse(runtime.budget(null)!.deadline!);
    const child = runtime.spawn({ budget: { timeMs: 1000 } });
    const first = Date.parse(child.budget!.deadline!);
    expect(Date.parse(runtime.extendDeadline(child.id, 5000).budget!.deadline!)).toBe(first + 5000);
    // Never past the parent's deadline.
    expect(Date.parse(runtime.extendDeadline(child.id, 3_600_000).budget!.deadline!)).toBe(rootDeadline);
    expect(() => runtime!.spawn({ budget: { timeMs: 3_600_000 } })).toThrow(BudgetRefusedError);
    const grandchild = runtime.spawn({ parentId: child.id });
    const asRoot = createToolDispatcher(runtime, runtime.toolsOf(null), { handleId: null });
    const refused = JSON.parse(await asRoot('extend_deadline', JSON.stringify({ target: grandchild.id, extend_ms: 1000 }))) as { ok: boolean; error?: { code: string } };
    expect(refused).toMatchObject({ ok: false, error: { code: 'unknown_handle' } });
    const accepted = JSON.parse(await asRoot('extend_deadline', JSON.stringify({ target: child.id, extend_ms: 1000 }))) as { ok: boolean; note?: string };
    expect(accepted).toMatchObject({ ok: true, note: 'Capped at your own deadline.' });
    expect(() => runtime!.extendDeadline(child.id, 0)).toThrow(BadArgumentError);
  });
});

describe('budget arithmetic under concurrency (property)', () => {
  let server: FakeServer;
  let client: OpenAI;
  beforeAll(async () => {
    // Each request reports the tokens its last user message asks for, so spend is known per child.
    server = await startFakeServer({
      script: (request) => {
        const last = [...request.body.messages].reverse().find((message) => message.role === 'user');
        const [input, output] = (typeof last?.content === 'string' ? last.content : '0 0').split(' ').map(Number);
        return reply.text('spent', { usage: { promptTokens: input ?? 0, completionTokens: output ?? 0 } });
      },
    });
    client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
  });
  afterAll(() => server.close());

  it('never reserves past a parent\'s remainder, and settles to exactly what the server reported', { timeout: 60_000 }, async () => {
    const child = fc.record({ input: fc.integer({ min: 0, max: 40 }), output: fc.integer({ min: 0, max: 40 }), asks: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 200, max: 2000 }), fc.array(fc.array(child, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }), async (limit, calls) => {
        const before = server.requests.length;
        const local = createRuntime({ client, model: 'fake', budget: { tokens: limit }, maxConcurrentChildren: 3 });
        try {
          let reported = 0;
          const delegations = [];
          for (const tasks of calls) {
            const remainder = local.budget(null)!.remaining.tokens!;
            try {
              const delegation = local.delegate({ tasks: tasks.map((task) => ({ goal: `${task.input} ${task.output}`, ...(task.asks ? { budget: { tokens: task.asks } } : {}) })) });
              const held = delegation.handleIds.reduce((sum, id) => sum + local.get(id).budget!.tokens!, 0);
              expect(held).toBeLessThanOrEqual(remainder);
              delegations.push(delegation.result);
            } catch (error) {
              expect(error).toBeInstanceOf(BudgetRefusedError);
            }
            expect(local.budget(null)!.held.tokens).toBeLessThanOrEqual(limit);
          }
          await Promise.all(delegations);
          for (const handle of local.list()) local.close(handle.id);
          for (const request of server.requests.slice(before)) {
            const last = [...request.body.messages].reverse().find((message) => message.role === 'user');
            reported += (typeof last?.content === 'string' ? last.content : '').split(' ').map(Number).reduce((a, b) => a + b, 0);
          }
          const spent = local.list().reduce((sum, handle) => sum + tokens(handle.usage), 0);
          // Settled: the root holds exactly what the children spent, which is what the server reported (or a run stopped at its budget kept).
          expect(local.budget(null)!.held.tokens).toBe(spent);
          expect(spent).toBe(reported);
        } finally {
          await local.shutdown();
        }
      }),
      { numRuns: 200 },
    );
  });
});
