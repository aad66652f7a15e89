/**
 * The distributed suite: child runs on worker processes over a real
 * `redis-server` (started here on a free port, no persistence), with the
 * fake model server in this process. Nothing is mocked at the Redis or the
 * process boundary.
 */
import OpenAI from 'openai';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bullmqExecutor, createRuntime, defineTool } from '../../src/index.js';
import type { Runtime, RuntimeEvent } from '../../src/index.js';
import type { RunExecutor } from '../../src/runtime/executor.js';
import type { RunContextOf } from '../../src/runtime/run-types.js';
import { messageText, reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, RecordedRequest, Reply } from '../../src/testing/index.js';
import { lookup } from '../support/sample-tools.js';
import { REDIS_MISSING, redisServerBinary, startRedis } from '../support/redis-server.js';
import type { TestRedis } from '../support/redis-server.js';
import { startWorkerProcess } from '../support/worker-processes.js';
import type { WorkerConfig, WorkerProcess } from '../support/worker-processes.js';
import { keysOf } from '../../src/distributed/protocol.js';
import { estimateTokens } from '../../src/model/conversation-window.js';

const binary = redisServerBinary();
if (!binary) {
  if (process.env.CI) throw new Error(`${REDIS_MISSING}; CI must run it`);
  console.warn(REDIS_MISSING);
}

/** A model that looks a word up once, then answers with the tool's result. */
const lookupThenAnswer = (request: RecordedRequest): Reply => {
  const messages = request.body.messages;
  const tool = messages.find((message) => message.role === 'tool');
  const user = messages.find((message) => message.role === 'user');
  const input = user ? messageText(user) : '';
  if (!tool) return reply.toolCall('lookup', { word: input });
  return reply.text(`answer to ${input}: ${messageText(tool)}`, { chunkSize: 8 });
};

/** Requests held open until answered (or aborted by their client). */
function heldScript() {
  const open: Array<{ request: RecordedRequest; answer: (reply: Reply) => void }> = [];
  const script = (request: RecordedRequest) => new Promise<Reply>((resolve) => open.push({ request, answer: resolve }));
  return { open, script };
}

/** Resolves once `condition` holds, polled; rejects after `budgetMs`. */
async function until(condition: () => boolean, budgetMs: number, what: string): Promise<void> {
  const deadline = performance.now() + budgetMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${budgetMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

describe.skipIf(!binary)('child runs on BullMQ workers over Redis', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let queueSeq = 0;
  const workers: WorkerProcess[] = [];
  const servers: FakeServer[] = [];
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    redis = await startRedis(binary!);
  }, 20_000);
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.shutdown();
    await Promise.all(workers.splice(0).map((worker) => worker.kill('SIGKILL')));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function setup(options: { script: Parameters<typeof startFakeServer>[0]['script']; workers: Array<Partial<WorkerConfig>>; runtime?: Record<string, unknown>; stalledInterval?: number }) {
    const server = await startFakeServer({ script: options.script });
    servers.push(server);
    const queue = `test-${process.pid}-${(queueSeq += 1)}`;
    const started = await Promise.all(options.workers.map((config) => startWorkerProcess({ redis: redis.url, baseURL: server.url, queue, ...config })));
    workers.push(...started);
    const runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: 'test-key-of-the-runtime', maxRetries: 0 }),
      model: 'fake-model',
      tools: [lookup],
      logger: 'error',
      executor: bullmqExecutor({ connection: redis.url, queue, ...(options.stalledInterval ? { stalledInterval: options.stalledInterval } : {}) }),
      ...options.runtime,
    });
    runtimes.push(runtime);
    return { server, queue, workers: started, runtime };
  }

  it('runs children on two worker processes: the same events, in order, the same conversation and result', async () => {
    const { server, runtime, workers: started } = await setup({ script: lookupThenAnswer, workers: [{}, {}] });
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const ids = Array.from({ length: 6 }, (_, index) => runtime.spawn({ goal: `define word w${index}`, toolsets: ['read'], message: `w${index}` }).id);
    const waited = await runtime.wait(ids, { timeoutMs: 30_000 });
    expect(waited.timedOut).toBe(false);
    for (const [index, id] of ids.entries()) {
      const handle = runtime.get(id);
      expect(handle.status).toBe('completed');
      expect(handle.lastOutput).toMatch(new RegExp(`^answer to w${index}: definition of w${index} \\(from worker pid \\d+\\)$`));
      // The text deltas came back in order: together they are the answer.
      const deltas = events.flatMap((event) => (event.type === 'text-delta' && event.handleId === id ? [event.delta] : []));
      expect(deltas.join('')).toBe(handle.lastOutput);
      expect(deltas.length).toBeGreaterThan(1);
      // The tool call's start and end, each model call's end, in order, then the run's end.
      const kinds = events.flatMap((event) => ('handleId' in event && event.handleId === id && ['tool-call-start', 'tool-call-end', 'model-call-end', 'run-end'].includes(event.type) ? [event.type] : []));
      expect(kinds).toEqual(['model-call-end', 'tool-call-start', 'tool-call-end', 'model-call-end', 'run-end']);
      const end = events.find((event) => event.type === 'run-end' && event.handleId === id);
      expect(end).toMatchObject({ outcome: 'completed', stats: { apiCalls: 2, model: 'fake-model', toolTrace: [{ tool: 'lookup', ok: true }] } });
    }
    // What the worker recorded is the handle's conversation: the next run (on any worker) starts from it.
    const firstAnswer = runtime.get(ids[0]!).lastOutput;
    runtime.send(ids[0]!, 'again');
    expect((await runtime.wait(ids[0]!, { timeoutMs: 30_000 })).timedOut).toBe(false);
    const next = server.requests.find((request) => request.body.messages.at(-1)?.content === 'again');
    expect(next?.body.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(next?.body.messages[4]?.content).toBe(firstAnswer);
    // Every model call was made by a worker, none by the runtime, and both workers took runs.
    // Two model calls per run; the second input's run answers from the tool result it already has.
    expect(server.requests.length).toBe(13);
    expect(server.requests.every((request) => request.headers.authorization === 'Bearer test-key-of-the-worker')).toBe(true);
    const pids = new Set(server.requests.map((request) => request.headers['x-worker']));
    expect([...pids].every((pid) => started.some((worker) => String(worker.pid) === pid))).toBe(true);
    // The usage spent on the workers is the handles'.
    expect(runtime.get(ids[0]!).usage.inputTokens).toBeGreaterThan(0);
  });

  it('fails a run whose tool is not registered on the worker, with a clear message', async () => {
    const { runtime, server } = await setup({ script: lookupThenAnswer, workers: [{ tools: [] }] });
    const handle = runtime.spawn({ goal: 'define a word', toolsets: ['read'], message: 'alpha' });
    expect((await runtime.wait(handle.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
    const after = runtime.get(handle.id);
    expect(after.status).toBe('error');
    expect(after.error).toMatch(/^The tool `lookup` of handle `sa_[\w-]+` is not registered on worker worker-\w+ \(it has no tools\): give it to createWorker\(\{ tools \}\)$/);
    expect(server.requests).toHaveLength(0);
  });

  it('interrupts across processes: the worker aborts its in-flight model call (latency p50/p99 measured)', async () => {
    const held = heldScript();
    const { server, runtime } = await setup({ script: held.script, workers: [{}, {}] });
    const latencies: number[] = [];
    const rounds = 20;
    const handle = runtime.spawn({ goal: 'wait for the model' });
    for (let round = 0; round < rounds; round += 1) {
      const ends: RuntimeEvent[] = [];
      const stop = runtime.subscribe((event) => event.type === 'run-end' && event.handleId === handle.id && ends.push(event));
      const before = server.requests.length;
      runtime.send(handle.id, `round ${round}`);
      await until(() => server.requests.length > before, 10_000, 'the worker to call the model');
      const request = server.requests[before]!;
      const aborted = new Promise<RecordedRequest>((resolve) => {
        const off = server.onAbort((record) => record === request && (off(), resolve(record)));
      });
      const sent = performance.now();
      runtime.interrupt(handle.id);
      const record = await aborted;
      latencies.push(record.abortedAt! - sent);
      expect(runtime.get(handle.id).status).toBe('interrupted');
      expect(ends).toEqual([expect.objectContaining({ outcome: 'interrupted' })]);
      stop();
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.info(`interrupt across processes, ${rounds} rounds: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    // Generous bound for a loaded machine: the target on an idle loopback is 20 ms.
    expect(p99).toBeLessThan(2_000);
    expect(held.open.every((entry) => entry.request.aborted)).toBe(true);
  });

  it('a worker killed with SIGKILL mid-run: that run ends interrupted, "worker lost", once, within 10 s', async () => {
    const held = heldScript();
    const { server, runtime, workers: [doomed] } = await setup({ script: held.script, workers: [{ lockDuration: 1_000, stalledInterval: 500 }], stalledInterval: 500 });
    const ends: RuntimeEvent[] = [];
    runtime.subscribe((event) => event.type === 'run-end' && ends.push(event));
    const handle = runtime.spawn({ goal: 'wait for the model', message: 'go' });
    await until(() => server.requests.length === 1, 10_000, 'the worker to call the model');
    const killed = performance.now();
    await doomed!.kill('SIGKILL');
    await until(() => ends.length > 0, 10_000, 'the lost run to end');
    const detectedMs = performance.now() - killed;
    console.info(`worker killed mid-run: its run ended after ${Math.round(detectedMs)} ms (lockDuration 1000, stalledInterval 500)`);
    const after = runtime.get(handle.id);
    expect(after.status).toBe('interrupted');
    expect(after.lastOutcome).toBe('interrupted');
    expect(after.error).toBe('worker lost');
    // Exactly one outcome, and nothing later.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(ends).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
  });

  it('a duplicate delivery of a run\'s job never runs the model again; a job of another protocol version fails loudly', async () => {
    const held = heldScript();
    const { server, runtime, queue } = await setup({ script: held.script, workers: [{}] });
    const jobs = new Queue(queue, { connection: { url: redis.url } });
    const events = new QueueEvents(queue, { connection: { url: redis.url } });
    const reader = new Redis(redis.url);
    try {
      await events.waitUntilReady();
      const handle = runtime.spawn({ goal: 'answer', message: 'once' });
      await until(() => held.open.length === 1, 10_000, 'the worker to call the model');
      const [active] = await jobs.getJobs(['active']);
      expect(active?.id).toMatch(new RegExp(`_${handle.id}_1$`));
      // The same id again while it runs: still one job.
      await jobs.add('run', active!.data, { jobId: active!.id! });
      expect(await jobs.getJobCounts('active', 'wait')).toEqual({ active: 1, wait: 0 });
      held.open[0]!.answer(reply.text('done once'));
      expect((await runtime.wait(handle.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
      expect(runtime.get(handle.id).lastOutput).toBe('done once');
      // Delivered again after it ended (its job removed): refused, the model not called.
      let state = '';
      const deadline = performance.now() + 10_000;
      while ((state = await jobs.getJobState(active!.id!)) !== 'unknown' && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(state).toBe('unknown');
      const failed = new Promise<string>((resolve) => events.on('failed', ({ jobId, failedReason }) => jobId === active!.id && resolve(failedReason)));
      await jobs.add('run', active!.data, { jobId: active!.id! });
      expect(await Promise.race([failed, new Promise((resolve) => setTimeout(() => resolve('no failed event in 15 s'), 15_000))])).toMatch(/was started before \(a duplicate delivery\): not run again/);
      expect(server.requests).toHaveLength(1);
      expect(runtime.get(handle.id).runs).toBe(1);

      // A job of another protocol version: the worker refuses it and says why on its reply stream.
      const replyKey = `${keysOf(queue).replies('protocol-test')}`;
      await jobs.add('run', { ...active!.data, v: 999, reply: replyKey }, { jobId: 'protocol-test' });
      let answer: Array<[string, Array<[string, string[]]>]> | null = null;
      const answered = performance.now() + 10_000;
      while (answer === null && performance.now() < answered) answer = (await reader.xread('BLOCK', 500, 'STREAMS', replyKey, '0-0'));
      expect(answer).not.toBeNull();
      const fields = answer![0]![1][0]![1];
      const sentEvents = JSON.parse(fields[fields.indexOf('d') + 1]!) as Array<{ k: string; code?: string; message?: string }>;
      expect(sentEvents.at(-1)).toEqual({ k: 'fail', code: 'protocol_mismatch', message: expect.stringMatching(/protocol version 999 and this worker speaks version 1/) as string });
      expect(server.requests).toHaveLength(1);
    } finally {
      await Promise.all([jobs.close(), events.close(), reader.quit()]);
    }
  });

  it('a restart of redis-server mid-run: every run has one outcome, none is silently lost, and later runs work', { timeout: 60_000 }, async () => {
    const held = heldScript();
    const { server, runtime } = await setup({ script: held.script, workers: [{}, {}] });
    const ends: Array<Extract<RuntimeEvent, { type: 'run-end' }>> = [];
    runtime.subscribe((event) => event.type === 'run-end' && ends.push(event));
    const ids = Array.from({ length: 3 }, (_, index) => runtime.spawn({ goal: 'wait for the model', message: `in flight ${index}` }).id);
    await until(() => held.open.length === 3, 10_000, 'the workers to call the model');
    await redis.restart();
    await until(() => ends.length === 3, 20_000, 'every run in flight to end');
    for (const id of ids) {
      const end = ends.filter((event) => event.handleId === id);
      expect(end).toHaveLength(1);
      expect(end[0]).toMatchObject({ outcome: 'interrupted', error: 'lost: its job vanished from Redis (restarted?)' });
    }
    // The workers' in-flight calls were stopped too.
    await until(() => held.open.every((entry) => entry.request.aborted), 10_000, 'the workers to abort their calls');
    // Runs after the restart work, on the same runtime and workers.
    const later = runtime.spawn({ goal: 'after the restart', message: 'later' });
    await until(() => held.open.length === 4, 20_000, 'a worker to take the run after the restart');
    held.open[3]!.answer(reply.text('after the restart'));
    expect((await runtime.wait(later.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
    expect(runtime.get(later.id)).toMatchObject({ status: 'completed', lastOutput: 'after the restart' });
    expect(ends.filter((event) => ids.includes(event.handleId))).toHaveLength(3);
    expect(server.requests).toHaveLength(4);
  });

  const remove = defineTool({ name: 'remove', toolset: 'read', description: 'Removes a word (needs approval).', parameters: z.object({ word: z.string() }), needsApproval: true, execute: () => 'never here' });

  it('an approval a tool on the worker asks for is decided by the runtime and crosses back', async () => {
    const script = (request: RecordedRequest): Reply => {
      const tools = request.body.messages.filter((message) => message.role === 'tool');
      if (tools.length === 0) return reply.toolCall('remove', { word: 'keep' });
      if (tools.length === 1) return reply.toolCall('remove', { word: 'drop' });
      return reply.text(tools.map((message) => messageText(message)).join(' | '));
    };
    const asked: string[] = [];
    const { runtime } = await setup({
      script,
      workers: [{ tools: ['remove'] }],
      runtime: {
        tools: [remove],
        onApproval: (request: { arguments: unknown }) => {
          const word = (request.arguments as { word: string }).word;
          asked.push(word);
          return word === 'drop' ? { approve: true } : { approve: false, reason: 'keep it' };
        },
      },
    });
    const handle = runtime.spawn({ goal: 'remove words', toolsets: ['read'], message: 'go' });
    expect((await runtime.wait(handle.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
    expect(asked).toEqual(['keep', 'drop']);
    const output = runtime.get(handle.id).lastOutput!;
    expect(output).toMatch(/approval_denied.*keep it/);
    expect(output).toMatch(/\| removed drop$/);
  });

  it('an approval decided while the worker\'s subscriber is reconnecting is not lost: the worker reads the kept decision', async () => {
    const admin = new Redis(redis.url);
    const killed: number[] = [];
    const script = (request: RecordedRequest): Reply => {
      const tool = request.body.messages.find((message) => message.role === 'tool');
      return tool ? reply.text(messageText(tool)) : reply.toolCall('remove', { word: 'old' });
    };
    try {
      const { runtime } = await setup({
        script,
        workers: [{ tools: ['remove'] }],
        runtime: {
          tools: [remove],
          // The decision is published right after the worker's subscriber was cut off: it reconnects only after it.
          onApproval: async () => {
            killed.push(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')));
            return { approve: true };
          },
        },
      });
      const handle = runtime.spawn({ goal: 'remove a word', toolsets: ['read'], message: 'go' });
      expect((await runtime.wait(handle.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
      expect(killed).toEqual([1]);
      expect(runtime.get(handle.id)).toMatchObject({ status: 'completed', lastOutput: 'removed old' });
      // The kept decision is gone once read.
      expect(await admin.keys('subagents:*:decision:*')).toEqual([]);
    } finally {
      await admin.quit();
    }
  });

  it('a job carries the run context\'s plain data whole: a field the runtime adds to it (a per-run limit) reaches the worker', async () => {
    const held = heldScript();
    const server = await startFakeServer({ script: held.script });
    servers.push(server);
    const queue = `test-${process.pid}-${(queueSeq += 1)}`;
    workers.push(await startWorkerProcess({ redis: redis.url, baseURL: server.url, queue }));
    // A runtime whose run context has one more field, as a later version's may.
    const inner = bullmqExecutor({ connection: redis.url, queue });
    const executor: RunExecutor = {
      kind: 'run-executor',
      name: 'with-a-limit',
      bind: (binding) => {
        const run = inner.bind(binding);
        return (input, context) => run(input, { ...context, limits: { maxCompletionTokens: 77 } } as RunContextOf<unknown>);
      },
      close: () => inner.close(),
    };
    const runtime = createRuntime({ client: new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }), model: 'fake-model', logger: 'error', executor });
    runtimes.push(runtime);
    const jobs = new Queue(queue, { connection: { url: redis.url } });
    try {
      const handle = runtime.spawn({ goal: 'answer', message: 'with a limit' });
      await until(() => held.open.length === 1, 10_000, 'the worker to call the model');
      const [active] = await jobs.getJobs(['active']);
      const spec = (active?.data as { spec: Record<string, unknown> }).spec;
      expect(spec.limits).toEqual({ maxCompletionTokens: 77 });
      expect(spec).toMatchObject({ runId: 1, handle: { id: handle.id }, conversation: expect.any(Array) as unknown, cwd: expect.any(String) as unknown });
      expect(Object.keys(spec).sort()).toEqual(['conversation', 'cwd', 'handle', 'limits', 'runId']);
      held.open[0]!.answer(reply.text('done'));
      expect((await runtime.wait(handle.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
      expect(runtime.get(handle.id).lastOutput).toBe('done');
    } finally {
      await jobs.close();
    }
  });
  it('holds budgets on workers: each request asks for no more than is left, and an overrun ends the run budget_exceeded with its spend', async () => {
    const script = () => reply.toolCall('lookup', { word: 'w' }, { usage: { promptTokens: 800, completionTokens: 300 } });
    const { server, runtime } = await setup({ script, workers: [{}], runtime: { budget: { tokens: 10_000 } } });
    const { results } = await runtime.delegate({ goal: 'spend', toolsets: ['read'], budget: { tokens: 2000 } }).result;
    expect(results[0]).toMatchObject({ status: 'budget_exceeded', exitReason: 'budget_exceeded', usage: { inputTokens: 1600, outputTokens: 600 } });
    // The worker capped each request at what the run had left, less the request's own (estimated) input: 2000, then 2000 − 1100.
    const inputOf = (index: number) => (server.requests[index]?.body.messages ?? []).reduce((sum, message) => sum + estimateTokens(message as never), 0);
    expect(server.requests.map((request) => request.body.max_completion_tokens)).toEqual([2000 - inputOf(0), 900 - inputOf(1)]);
    expect(server.requests.every((request) => request.headers.authorization === 'Bearer test-key-of-the-worker')).toBe(true);
    runtime.close(results[0]!.handleId);
    expect(runtime.budget(null)).toMatchObject({ held: { tokens: 2200 }, remaining: { tokens: 7800 } });
  });

  it('holds deadlines on workers: a run still going at its deadline ends timeout and its request is aborted on the worker', async () => {
    const held = heldScript();
    const { server, runtime } = await setup({ script: held.script, workers: [{}], runtime: { budget: { timeMs: 3000 } } });
    const aborted = new Promise<RecordedRequest>((resolve) => server.onAbort(resolve));
    const handle = runtime.spawn({ goal: 'answer', message: 'slowly' });
    await until(() => held.open.length === 1, 10_000, 'the worker to call the model');
    const ended = await runtime.wait(handle.id, { timeoutMs: 20_000 });
    expect(ended.completed[0]).toMatchObject({ status: 'error', lastOutcome: 'timeout' });
    expect(ended.completed[0]?.error).toMatch(/missed its deadline/);
    expect(await aborted).toBe(held.open[0]!.request);
  });
});
