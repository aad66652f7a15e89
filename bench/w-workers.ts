/**
 * W: runs on workers. P2's workload (1000 children, 16 at a time, 50 ms per
 * model call, two calls each) with `bullmqExecutor` and 2 worker processes
 * against the same in this process, paired and alternating: wall time over
 * the ideal, the latency each run adds (run-start → run-end, p50), the CPU
 * time of the runtime and its workers per pair; then the interrupt latency
 * across processes (interrupt() → the fake server sees the worker's
 * streaming request closed). Starts its own redis-server on a free port (never
 * 6379) and its own fake server. Run it alone with `npm run bench -- W`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRuntime } from '../src/agent/create-runtime.js';
import { bullmqExecutor } from '../src/distributed/bullmq-executor.js';
import { reply, startFakeServer } from '../src/testing/index.js';
import type { FakeServer } from '../src/testing/index.js';
import { redisServerBinary, REDIS_MISSING, startRedis } from '../test/support/redis-server.js';
import { clientFor, goalOf, lookupTool, MODEL, twoCallScript } from './fixtures.js';
import { loadAverage } from './machine.js';
import { inlineStreamServer, timeStop } from './p3-interrupt.js';
import type { Row } from './report.js';
import { formatMs, formatRatio, median, percentile } from './stats.js';

export interface WorkersOptions {
  count?: number;
  concurrency?: number;
  latencyMs?: number;
  /** Pairs (in-process, on workers), in alternating order. */
  rounds?: number;
  interrupts?: number;
}

const WORKERS = 2;
const INTERRUPT_TARGET_MS = 20;
const STREAM_PROMPT = 'Stream a long answer.';
const LONG_ANSWER = 'streaming '.repeat(400);
const ENTRY = fileURLToPath(new URL('./w-worker.js', import.meta.url));

interface Pass {
  wallMs: number;
  /** CPU of the runtime's process, and of the workers' (0 in process). */
  cpuMs: number;
  workersCpuMs: number;
  /** Each run's run-start → run-end. */
  runMs: number[];
}

/** CPU time (user + system) of a process so far, from /proc (Linux); null elsewhere. */
function processCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

function startWorker(config: { redis: string; queue: string; baseURL: string }): Promise<ChildProcess> {
  const child = spawn(process.execPath, [ENTRY, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('W: a worker process did not start in 20 s')), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready ')) return;
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`W: a worker process exited with ${code} before it was ready`)));
  });
}

/** One `delegate` batch of `count` tasks, in process or on the workers; checks every child answered. */
async function pass(server: FakeServer, count: number, concurrency: number, remote: { redis: string; queue: string; pids: number[] } | null): Promise<Pass> {
  const runtime = createRuntime({
    client: clientFor(server),
    model: MODEL,
    tools: [lookupTool],
    maxConcurrentChildren: concurrency,
    logger: 'error',
    ...(remote ? { executor: bullmqExecutor({ connection: remote.redis, queue: remote.queue }) } : {}),
  });
  const starts = new Map<string, number>();
  const runMs: number[] = [];
  runtime.subscribe((event) => {
    if (event.type === 'run-start') starts.set(event.handleId, performance.now());
    if (event.type === 'run-end') runMs.push(performance.now() - starts.get(event.handleId)!);
  });
  const workersCpu = () => (remote ? remote.pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0) : 0);
  const tasks = Array.from({ length: count }, (_, index) => ({ goal: goalOf(index) }));
  const workersBefore = workersCpu();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const outcome = await runtime.delegate({ tasks }).result;
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const workersCpuMs = workersCpu() - workersBefore;
  await runtime.shutdown();
  const wrong = outcome.results.findIndex((result, index) => result.summary !== `The answer is: definition of w${index}`);
  if (wrong !== -1) throw new Error(`W: child ${wrong} answered ${JSON.stringify(outcome.results[wrong]?.summary)}`);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, workersCpuMs, runMs };
}

/** Interrupts across processes: a run streaming on a worker, interrupted at a random point. */
async function interruptLatencies(server: FakeServer, redis: string, queue: string, samples: number): Promise<number[]> {
  const runtime = createRuntime({ client: clientFor(server), model: MODEL, logger: 'error', executor: bullmqExecutor({ connection: redis, queue }) });
  const handle = runtime.spawn({ goal: STREAM_PROMPT });
  const latencies: number[] = [];
  try {
    for (let sample = 0; sample < samples; sample += 1) {
      latencies.push(await timeStop(inlineStreamServer(server), 30, () => runtime.send(handle.id, STREAM_PROMPT), () => runtime.interrupt(handle.id)));
      await runtime.wait(handle.id, { timeoutMs: 10_000 });
    }
  } finally {
    await runtime.shutdown();
  }
  return latencies;
}

export async function benchWorkers(options: WorkersOptions = {}): Promise<Row[]> {
  const count = options.count ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const latencyMs = options.latencyMs ?? 50;
  const rounds = options.rounds ?? 3;
  const binary = redisServerBinary();
  if (!binary) throw new Error(`W: ${REDIS_MISSING}`);
  const loadBefore = loadAverage();
  const redis = await startRedis(binary);
  // One server for both: the two-call children, and a long stream for the interrupts (its chunks 1 ms apart).
  const server = await startFakeServer({
    latencyMs,
    script: (request) => (request.body.messages.at(-1)?.content === STREAM_PROMPT ? reply.text(LONG_ANSWER, { chunkDelayMs: 1, chunkSize: 8 }) : twoCallScript(request)),
  });
  const queue = `bench-w-${process.pid}`;
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => startWorker({ redis: redis.url, queue, baseURL: server.url })));
  const remote = { redis: redis.url, queue, pids: workers.map((worker) => worker.pid!) };
  try {
    // Warm-up: both paths once, small.
    await pass(server, 64, concurrency, null);
    await pass(server, 64, concurrency, remote);
    const local: Pass[] = [];
    const distributed: Pass[] = [];
    for (let round = 0; round < rounds; round += 1) {
      if (round % 2 === 0) {
        local.push(await pass(server, count, concurrency, null));
        distributed.push(await pass(server, count, concurrency, remote));
      } else {
        distributed.push(await pass(server, count, concurrency, remote));
        local.push(await pass(server, count, concurrency, null));
      }
    }
    const interrupts = await interruptLatencies(server, redis.url, queue, options.interrupts ?? 100);
    const loadAfter = loadAverage();

    const ideal = Math.ceil(count / concurrency) * 2 * latencyMs;
    const wall = (passes: Pass[]) => median(passes.map((one) => one.wallMs));
    const runP50 = (passes: Pass[]) => median(passes.map((one) => percentile(one.runMs, 0.5)));
    const added = runP50(distributed) - runP50(local);
    const cpuPairs = distributed.map((one, index) => `${formatMs(one.cpuMs)} + workers ${formatMs(one.workersCpuMs)} vs ${formatMs(local[index]!.cpuMs)}`);
    const cpuRatio = median(distributed.map((one, index) => (one.cpuMs + one.workersCpuMs) / local[index]!.cpuMs));
    const p99 = percentile(interrupts, 0.99);
    const load = `load average ${loadBefore} before, ${loadAfter} after`;
    return [
      {
        id: 'W',
        measure: `workers: delegate ${count} tasks, ${concurrency} at a time, ${latencyMs} ms per model call, runs on ${WORKERS} worker processes over Redis, vs ideal`,
        value: formatRatio(wall(distributed) / ideal),
        target: '—',
        met: null,
        absolute: `on workers ${formatMs(wall(distributed))}, in process ${formatMs(wall(local))} (${formatRatio(wall(local) / ideal)}), ideal ${formatMs(ideal)}; medians of ${rounds} pairs; ${load}`,
      },
      {
        id: 'W',
        measure: 'workers: latency a run on a worker adds (run-start → run-end, p50, minus in process)',
        value: `${added < 0 ? '−' : '+'}${formatMs(Math.abs(added))}`,
        target: '—',
        met: null,
        absolute: `p50 per run on workers ${formatMs(runP50(distributed))}, in process ${formatMs(runP50(local))} (two model calls of ${latencyMs} ms each)`,
      },
      {
        id: 'W',
        measure: `workers: interrupt latency across processes, interrupt() → server sees the worker's streaming request closed (${interrupts.length} interrupts)`,
        value: `p50 ${formatMs(percentile(interrupts, 0.5))}, p99 ${formatMs(p99)}`,
        target: `p99 ≤ ${INTERRUPT_TARGET_MS} ms`,
        met: p99 <= INTERRUPT_TARGET_MS,
        absolute: `max ${formatMs(Math.max(...interrupts))}; loopback`,
      },
      {
        id: 'W',
        measure: 'workers: CPU time, runtime + its workers vs in process, per pair (Linux /proc for the workers)',
        value: formatRatio(cpuRatio),
        target: '—',
        met: null,
        absolute: `${cpuPairs.join('; ')}; ${load}`,
      },
    ];
  } finally {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
      if (worker.exitCode !== null) return resolve();
      worker.once('exit', () => resolve());
      worker.kill('SIGTERM');
    })));
    await server.close();
    await redis.stop();
  }
}
