/**
 * P3: interrupt latency. A child streams a long answer (one chunk per
 * millisecond); at a random point of the stream the runtime interrupts it.
 * Measured: from just before `runtime.interrupt(id)` to the fake server
 * noticing the connection closed (`abortedAt`). The floor, interleaved
 * sample by sample, is the raw client streaming the same answer and aborting
 * its own AbortController. One stream at a time.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { createRuntime } from '../src/agent/create-runtime.js';
import { reply, startFakeServer } from '../src/testing/index.js';
import type { FakeServer, RecordedRequest } from '../src/testing/index.js';
import { clientFor, MODEL } from './fixtures.js';
import type { Row } from './report.js';
import { formatMs, formatRatio, percentile } from './stats.js';

export interface InterruptOptions {
  samples?: number;
  /** Interrupts land uniformly in [0, this) ms after the request arrived. */
  spreadMs?: number;
}

const TARGET_RATIO = 1.2;
/** What the p99 should be on a quiet machine (shown, not judged: the machine is rarely quiet). */
const QUIET_P99_MS = 2;
// 4,000 characters in chunks of 8, one per ms: the stream outlasts any interrupt point.
const LONG_ANSWER = 'streaming '.repeat(400);
const ABORT_TIMEOUT_MS = 2_000;

const nextRequest = (server: FakeServer) =>
  new Promise<RecordedRequest>((resolve) => {
    const stop = server.onRequest((request) => {
      stop();
      resolve(request);
    });
  });

/** Resolves with the request once the server saw its client go away. */
function abortOf(server: FakeServer, request: RecordedRequest): Promise<RecordedRequest> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`P3: request #${request.index} was not aborted within ${ABORT_TIMEOUT_MS} ms`)), ABORT_TIMEOUT_MS);
    const stop = server.onAbort((aborted) => {
      if (aborted !== request) return;
      clearTimeout(timer);
      stop();
      resolve(aborted);
    });
  });
}

/** Starts a stream with `begin`, stops it at a random point with `stop`; resolves with the stop → close latency. */
export async function timeStop(server: FakeServer, spreadMs: number, begin: () => void, stop: () => void): Promise<number> {
  const arrived = nextRequest(server);
  begin();
  const request = await arrived;
  await sleep(Math.random() * spreadMs);
  if (request.completed) throw new Error(`P3: request #${request.index} ended before the interrupt; lengthen the answer`);
  const aborted = abortOf(server, request);
  const start = performance.now();
  stop();
  const { abortedAt } = await aborted;
  return abortedAt! - start;
}

/** The raw client streaming one answer until `signal` aborts it. */
async function consumeStream(client: OpenAI, signal: AbortSignal): Promise<void> {
  try {
    const stream = await client.chat.completions.create(
      { model: MODEL, messages: [{ role: 'user', content: 'Stream a long answer.' }], stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    for await (const chunk of stream) void chunk;
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

export async function benchInterrupt(options: InterruptOptions = {}): Promise<Row[]> {
  const samples = options.samples ?? 250;
  const spreadMs = options.spreadMs ?? 30;
  const server = await startFakeServer({ script: () => reply.text(LONG_ANSWER, { chunkDelayMs: 1, chunkSize: 8 }) });
  const runtime = createRuntime({ client: clientFor(server), model: MODEL });
  const floorClient = clientFor(server);
  const handle = runtime.spawn({ goal: 'Stream a long answer.' });
  const ours: number[] = [];
  const floor: number[] = [];
  const sampleOurs = async () => {
    ours.push(
      await timeStop(
        server,
        spreadMs,
        () => runtime.send(handle.id, 'Stream a long answer.'),
        () => runtime.interrupt(handle.id),
      ),
    );
  };
  const sampleFloor = async () => {
    const controller = new AbortController();
    let streaming: Promise<void> = Promise.resolve();
    floor.push(
      await timeStop(
        server,
        spreadMs,
        () => {
          streaming = consumeStream(floorClient, controller.signal);
        },
        () => controller.abort(),
      ),
    );
    await streaming;
  };
  for (let sample = 0; sample < samples; sample += 1) {
    if (sample % 2 === 0) {
      await sampleOurs();
      await sampleFloor();
    } else {
      await sampleFloor();
      await sampleOurs();
    }
  }
  await runtime.shutdown();
  await server.close();
  const p99 = percentile(ours, 0.99);
  const floorP99 = percentile(floor, 0.99);
  const ratio = p99 / floorP99;
  return [
    {
      id: 'P3',
      measure: `interrupt latency: interrupt() → server sees the streaming request closed, p99 vs the raw client's own abort (${samples} interrupts at random points, interleaved)`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(TARGET_RATIO)}`,
      met: ratio <= TARGET_RATIO,
      absolute:
        `ours p50 ${formatMs(percentile(ours, 0.5))}, p99 ${formatMs(p99)} (≤ ${QUIET_P99_MS} ms on a quiet machine), max ${formatMs(Math.max(...ours))}; ` +
        `floor (raw client, AbortController.abort()) p50 ${formatMs(percentile(floor, 0.5))}, p99 ${formatMs(floorP99)}`,
    },
  ];
}
