/**
 * The fake server of P1/P2 in a process of its own, so that the CPU time the
 * benchmark reads is the client's alone: `node server-process.js <latencyMs>`
 * (forked with an IPC channel). It sends `{ url }` once it listens, and closes
 * and exits when told `close` or when its parent goes away.
 * `node server-process.js 0 stream` is P3's server instead: it streams the
 * long answer and reports each request (`{ request: index }`) and each client
 * that went away (`{ aborted: index, at }`, `at` on the wall clock both
 * processes share: `performance.timeOrigin + performance.now()`).
 */
import { performance } from 'node:perf_hooks';
import { startLongAnswerServer, startTwoCallServer } from './fixtures.js';

const latencyMs = Number(process.argv[2] ?? 0);
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`server-process: expected a latency in ms >= 0, got \`${process.argv[2]}\``);
if (!process.send) throw new Error('server-process: expected to be forked with an IPC channel');

const streaming = process.argv[3] === 'stream';
const server = streaming ? await startLongAnswerServer() : await startTwoCallServer(latencyMs);
if (streaming) {
  server.onRequest((request) => process.send!({ request: request.index }));
  server.onAbort((request) => process.send!({ aborted: request.index, at: performance.timeOrigin + request.abortedAt! }));
}
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('message', (message) => {
  if (message === 'close') void stop();
});
process.on('disconnect', () => void stop());
process.send({ url: server.url });
