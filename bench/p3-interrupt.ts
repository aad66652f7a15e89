/**
 * P3: interrupt latency. A child streams a long answer (one chunk per
 * millisecond); at a random point of the stream the runtime interrupts it.
 * Measured: from just before `runtime.interrupt(id)` to the fake server
 * noticing the connection closed (`abortedAt`). The floor, interleaved
 * sample by sample, is the raw client streaming the same answer and aborting
 * its own AbortController. One stream at a time.
 *
 * Twice: with the server in the benchmark's process (it notices the close
 * only once the client's synchronous work and microtasks after the abort are
 * done, so everything the interrupt does counts), and with the server in a
 * process of its own, as a model provider is (it notices the close as soon
 * as the client's socket is closed; the two clocks are read as
 * `performance.timeOrigin + performance.now()`).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { createRuntime } from '../src/agent/create-runtime.js';
import type { FakeServer, RecordedRequest } from '../src/testing/index.js';
import { clientFor, MODEL, startLongAnswerServer } from './fixtures.js';
import { startServerProcess } from './remote-server.js';
import type { RemoteServer } from './remote-server.js';
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
const ABORT_TIMEOUT_MS = 2_000;

/** The server as P3 sees it: requests arriving, and when each one's client went away, on the clock `now` reads. */
interface StreamServer {
  url: string;
  /** Resolves with the index of the next request once it arrived. */
  nextRequest(): Promise<number>;
  /** Resolves with the time the server saw that request's client go away. */
  abortOf(index: number): Promise<number>;
  now(): number;
  close(): Promise<void>;
}

/** Resolves with what `listen` hands the first time `pick` takes it, or rejects after the timeout. */
function first<T, M>(listen: (listener: (message: M) => void) => () => void, pick: (message: M) => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`P3: ${what} within ${ABORT_TIMEOUT_MS} ms (did the answer end first? lengthen it)`)), ABORT_TIMEOUT_MS);
    const stop = listen((message) => {
      const picked = pick(message);
      if (picked === undefined) return;
      clearTimeout(timer);
      stop();
      resolve(picked);
    });
  });
}

/** A fake server in this process, as P3 sees it. */
export function inlineStreamServer(server: FakeServer): StreamServer {
  const requests = (listener: (request: RecordedRequest) => void) => server.onRequest(listener);
  const aborts = (listener: (request: RecordedRequest) => void) => server.onAbort(listener);
  return {
    url: server.url,
    nextRequest: () => first(requests, (request) => request.index, 'no request'),
    abortOf: (index) => first(aborts, (request) => (request.index === index ? request.abortedAt! : undefined), `request #${index} was not aborted`),
    now: () => performance.now(),
    close: () => server.close(),
  };
}

function remote(server: RemoteServer): StreamServer {
  type Report = { request?: number; aborted?: number; at?: number };
  const listen = (listener: (message: Report) => void) => server.onMessage((message) => listener(message as Report));
  return {
    url: server.url,
    nextRequest: () => first(listen, (message) => message.request, 'no request'),
    abortOf: (index) => first(listen, (message) => (message.aborted === index ? message.at : undefined), `request #${index} was not aborted`),
    now: () => performance.timeOrigin + performance.now(),
    close: () => server.close(),
  };
}

/** Starts a stream with `begin`, stops it at a random point with `stop`; resolves with the stop → close latency. */
export async function timeStop(server: StreamServer, spreadMs: number, begin: () => void, stop: () => void): Promise<number> {
  const arrived = server.nextRequest();
  begin();
  const index = await arrived;
  await sleep(Math.random() * spreadMs);
  const aborted = server.abortOf(index);
  const start = server.now();
  stop();
  return (await aborted) - start;
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

/** Interleaved samples of ours and the floor against one server. */
async function sampleBoth(server: StreamServer, samples: number, spreadMs: number): Promise<{ ours: number[]; floor: number[] }> {
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
  return { ours, floor };
}

export async function benchInterrupt(options: InterruptOptions = {}): Promise<Row[]> {
  const samples = options.samples ?? 250;
  const spreadMs = options.spreadMs ?? 30;
  const rows: Row[] = [];
  for (const where of ['inline', 'remote'] as const) {
    const server = where === 'inline' ? inlineStreamServer(await startLongAnswerServer()) : remote(await startServerProcess(0, 'stream'));
    const { ours, floor } = await sampleBoth(server, samples, spreadMs);
    await server.close();
    const p99 = percentile(ours, 0.99);
    const floorP99 = percentile(floor, 0.99);
    const ratio = p99 / floorP99;
    const place = where === 'inline' ? 'server in the same process' : 'server in its own process';
    rows.push({
      id: 'P3',
      measure: `interrupt latency: interrupt() → server sees the streaming request closed, p99 vs the raw client's own abort (${samples} interrupts at random points, interleaved; ${place})`,
      value: formatRatio(ratio),
      target: `≤ ${formatRatio(TARGET_RATIO)}`,
      met: ratio <= TARGET_RATIO,
      absolute:
        `ours p50 ${formatMs(percentile(ours, 0.5))}, p99 ${formatMs(p99)} (≤ ${QUIET_P99_MS} ms on a quiet machine), max ${formatMs(Math.max(...ours))}; ` +
        `floor (raw client, AbortController.abort()) p50 ${formatMs(percentile(floor, 0.5))}, p99 ${formatMs(floorP99)}`,
    });
  }
  return rows;
}
