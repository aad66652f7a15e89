/**
 * The contenders of P1 and P2, each timed against a fresh fake server:
 * `delegate` with one batch under `maxConcurrentChildren`, the floor (the raw
 * client), and between them the model loop alone in a plain promise pool:
 * what the runtime adds over it is the handles, the supervisor and delegate.
 */
import { performance } from 'node:perf_hooks';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { createRuntime } from '../src/agent/create-runtime.js';
import { runModelLoop } from '../src/model/model-loop.js';
import type { Store } from '../src/store/store-types.js';
import { checkAnswers, clientFor, goalOf, lookupTool, MODEL, startTwoCallServer } from './fixtures.js';
import { runFloor, runPool } from './floor.js';
import type { RequestShape } from './floor.js';
import { startServerProcess } from './remote-server.js';

export interface Workload {
  count: number;
  concurrency: number;
  /** Fake server delay before each response. */
  latencyMs: number;
  /**
   * Where the fake server runs: in a process of its own (the default, so the
   * CPU time read is the client's alone) or in the benchmark's process.
   */
  server?: 'process' | 'inline';
}

/** A fresh two-call fake server for one timed run, where the workload says. */
function serverFor(workload: Workload): Promise<{ url: string; close(): Promise<void> }> {
  return workload.server === 'inline' ? startTwoCallServer(workload.latencyMs) : startServerProcess(workload.latencyMs);
}

/** Wall time of a run, and the CPU time (user + system) the process spent in it. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Times `work`. No forced GC before it: a forced full GC slows the code that follows (see RESULTS.md). */
async function timed<T>(work: () => Promise<T>): Promise<{ timing: Timing; value: T }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { timing: { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }, value };
}

/** Times one `delegate` batch of `count` tasks; checks every child answered. With `store`, the runtime keeps everything in it. */
export async function timeDelegate(workload: Workload, store?: Store): Promise<Timing> {
  const server = await serverFor(workload);
  const runtime = createRuntime({
    client: clientFor(server),
    model: MODEL,
    tools: [lookupTool],
    maxConcurrentChildren: workload.concurrency,
    ...(store ? { store } : {}),
  });
  const tasks = Array.from({ length: workload.count }, (_, index) => ({ goal: goalOf(index) }));
  const { timing, value: outcome } = await timed(() => runtime.delegate({ tasks }).result);
  await runtime.shutdown();
  await server.close();
  checkAnswers('delegate', outcome.results.map((result) => result.summary));
  return timing;
}

/** Times the floor doing the same work; checks every child answered. */
export async function timeFloor(workload: Workload, shape: RequestShape): Promise<Timing> {
  const server = await serverFor(workload);
  const client = clientFor(server);
  const { timing, value: answers } = await timed(() => runFloor(client, shape, workload.count, workload.concurrency));
  await server.close();
  checkAnswers('floor', answers);
  return timing;
}

/** Times `runModelLoop` alone doing the same work, in a promise pool; checks every child answered. */
export async function timeModelLoop(workload: Workload, shape: RequestShape): Promise<Timing> {
  const server = await serverFor(workload);
  const client = clientFor(server);
  const child = async (index: number) => {
    const result = await runModelLoop({
      client,
      model: MODEL,
      history: [shape.system],
      input: goalOf(index),
      tools: [lookupTool],
      maxIterations: 50,
      // One per run, as the runtime gives each run its own.
      signal: new AbortController().signal,
      stats: { apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model: MODEL, startedAt: performance.now() },
      toolContext: { handleId: `loop_${index}`, depth: 1, cwd: process.cwd() },
    });
    return result.text;
  };
  const { timing, value: answers } = await timed(() => runPool(workload.count, workload.concurrency, child));
  await server.close();
  checkAnswers('model loop', answers);
  return timing;
}

/** The system prompt and tools a real child sends, so that the floor sends the same bytes. */
export async function captureRequestShape(): Promise<RequestShape> {
  const server = await startTwoCallServer();
  const runtime = createRuntime({ client: clientFor(server), model: MODEL, tools: [lookupTool] });
  await runtime.delegate({ goal: goalOf(0) }).result;
  await runtime.shutdown();
  await server.close();
  const body = server.requests[0]?.body;
  const system = body?.messages[0];
  if (!body || system?.role !== 'system' || typeof system.content !== 'string') {
    throw new Error('captureRequestShape: the first child request has no system prompt');
  }
  return {
    system: { role: 'system', content: system.content } satisfies ChatCompletionMessageParam,
    tools: (body.tools ?? []).map(
      (tool): ChatCompletionTool => ({
        type: 'function',
        function: {
          name: tool.function.name,
          ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
          ...(tool.function.parameters !== undefined ? { parameters: tool.function.parameters } : {}),
          ...(typeof tool.function.strict === 'boolean' ? { strict: tool.function.strict } : {}),
        },
      }),
    ),
  };
}
