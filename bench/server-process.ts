/**
 * The fake server of P1/P2 in a process of its own, so that the CPU time the
 * benchmark reads is the client's alone: `node server-process.js <latencyMs>`
 * (forked with an IPC channel). It sends `{ url }` once it listens, and closes
 * and exits when told `close` or when its parent goes away.
 */
import { startTwoCallServer } from './fixtures.js';

const latencyMs = Number(process.argv[2] ?? 0);
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`server-process: expected a latency in ms >= 0, got \`${process.argv[2]}\``);
if (!process.send) throw new Error('server-process: expected to be forked with an IPC channel');

const server = await startTwoCallServer(latencyMs);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('message', (message) => {
  if (message === 'close') void stop();
});
process.on('disconnect', () => void stop());
process.send({ url: server.url });
