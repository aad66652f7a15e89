/**
 * The runtime's side of runs on workers: each run becomes one BullMQ job
 * (its id is the run's), the events its worker sends back are read from
 * this runtime's own Redis stream, in order, into the run context, and a
 * stopped run is cancelled on its worker through a published message.
 */
import { randomUUID } from 'node:crypto';
import type { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { BadArgumentError } from '../errors.js';
import { errorText } from '../machines/handle.js';
import { redactSecrets } from '../secrets.js';
import { RunLostError } from '../runtime/executor.js';
import type { ExecutorBinding, RunExecutor } from '../runtime/executor.js';
import type { AgentRunResult, RunContextOf, RunOf } from '../runtime/run-types.js';
import { rejectUnknownKeys } from '../runtime/validate.js';
import { bullmqConnection, connectionOptions, loadRedisPackages } from './connection.js';
import type { RedisConnection } from './protocol.js';
import { DEFAULT_QUEUE, MARKER_TTL_MS, MAX_JOB_BYTES, PROTOCOL_VERSION, jobIdOf, keysOf, specOf } from './protocol.js';
import type { ControlMessage, RunJob, WireEvent } from './protocol.js';

export interface BullmqExecutorOptions {
  /** The Redis the workers use. */
  connection: RedisConnection;
  /** @default 'subagents-runs' */
  queue?: string;
  /**
   * How often this runtime looks for stalled runs itself (a worker that died
   * holding one), so a lost run is found even when no other worker is left.
   * @default 2500
   */
  stalledInterval?: number;
}

/** A run in flight on a worker. */
interface PendingRun {
  context: RunContextOf<unknown>;
  resolve(result: AgentRunResult): void;
  reject(error: Error): void;
}

const EXECUTOR_KEYS: readonly string[] = ['connection', 'queue', 'stalledInterval'];

/** The reason a run whose worker died ends with. */
export const WORKER_LOST = 'worker lost';
/** The reason a run whose job vanished from Redis (a restart without persistence) ends with. */
export const QUEUE_LOST = 'lost: its job vanished from Redis (restarted?)';

function codedError(message: string, code: string | null): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Runs every handle's runs on workers (`createWorker`, or `subagents worker`)
 * over Redis. The charts, the supervisor and the store stay in the runtime.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ client, model: 'gpt-4.1-mini', executor: bullmqExecutor({ connection: 'redis://127.0.0.1:6380' }) });
 * ```
 */
export function bullmqExecutor(options: BullmqExecutorOptions): RunExecutor {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object with `connection`', options);
  rejectUnknownKeys(options, EXECUTOR_KEYS);
  const connection = connectionOptions('connection', options.connection);
  const queueName = options.queue ?? DEFAULT_QUEUE;
  if (typeof queueName !== 'string' || !/^[\w.-]{1,100}$/.test(queueName)) throw new BadArgumentError('queue', 'a queue name of letters, digits, `_`, `-` or `.`', queueName);
  const stalledInterval = options.stalledInterval ?? 2_500;
  if (typeof stalledInterval !== 'number' || !Number.isInteger(stalledInterval) || stalledInterval < 1) throw new BadArgumentError('stalledInterval', 'an integer >= 1', stalledInterval);
  const keys = keysOf(queueName);
  const runtimeId = randomUUID().replace(/-/g, '').slice(0, 16);
  const replies = keys.replies(runtimeId);
  const pending = new Map<string, PendingRun>();
  let binding: ExecutorBinding | null = null;
  /** Cancel requests on their way: shutdown waits for them. */
  const cancels = new Set<Promise<unknown>>();
  let closed = false;

  interface Wire {
    queue: Queue<RunJob>;
    events: QueueEvents;
    checker: Worker;
    commands: RedisClient;
    reader: RedisClient;
  }
  let wire: Promise<Wire> | null = null;

  /** Connects on the first run that goes to a worker. */
  function connect(): Promise<Wire> {
    wire ??= (async () => {
      const { bullmq, connect: client } = await loadRedisPackages();
      const commands = client(connection, `subagents:${runtimeId}:commands`);
      const reader = client(connection, `subagents:${runtimeId}:replies`);
      commands.on('error', () => {});
      reader.on('error', () => {});
      const queue = new bullmq.Queue<RunJob>(queueName, { connection: bullmqConnection(connection) });
      queue.on('error', () => {});
      const events = new bullmq.QueueEvents(queueName, { connection: bullmqConnection(connection) });
      events.on('error', () => {});
      // With stall retries at 0, a stalled run is a lost one: the worker holding it died.
      events.on('stalled', ({ jobId }) => lost(jobId, WORKER_LOST));
      events.on('failed', ({ jobId, failedReason }) => lost(jobId, /stalled/.test(failedReason) ? WORKER_LOST : failedReason, /stalled/.test(failedReason)));
      // This runtime checks for stalled runs too, so a run is found lost even when its worker was the last one.
      const checker = new bullmq.Worker(queueName, undefined, { connection: bullmqConnection(connection), autorun: false, maxStalledCount: 0, stalledInterval });
      checker.on('error', () => {});
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), checker.waitUntilReady()]);
      void checker.startStalledCheckTimer();
      // After a reconnect, a run whose job is gone (Redis restarted without its data) is lost: never silently.
      let connectedBefore = false;
      reader.on('ready', () => {
        if (connectedBefore) void recheck(queue);
        connectedBefore = true;
      });
      if (reader.status === 'ready') connectedBefore = true;
      void readLoop(reader, commands);
      return { queue, events, checker, commands, reader };
    })();
    return wire;
  }

  /** The queue says a run's job is lost or failed: once the worker's events before it are read (a fence), the run ends so if nothing else ended it. */
  function lost(jobId: string, reason: string, workerLost = reason === WORKER_LOST): void {
    if (!pending.has(jobId) || !wire) return;
    void wire.then(({ commands }) => commands.xadd(replies, '*', 'j', jobId, 'd', JSON.stringify([{ k: 'fence', reason, lost: workerLost } satisfies WireEvent])));
  }

  async function recheck(queue: Queue<RunJob>): Promise<void> {
    for (const jobId of [...pending.keys()]) {
      try {
        if ((await queue.getJobState(jobId)) === 'unknown') lost(jobId, QUEUE_LOST, true);
      } catch {
        // Disconnected again: the next reconnect checks again.
      }
    }
  }

  async function readLoop(reader: RedisClient, commands: RedisClient): Promise<void> {
    let lastId = '0-0';
    while (!closed) {
      let result: Array<[string, Array<[string, string[]]>]> | null;
      try {
        result = (await reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', replies, lastId));
      } catch {
        if (closed) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (!result) continue;
      for (const [, entries] of result) {
        for (const [entryId, fields] of entries) {
          lastId = entryId;
          const field = (name: string) => fields[fields.indexOf(name) + 1];
          const jobId = field('j');
          const run = jobId === undefined ? undefined : pending.get(jobId);
          if (!run) continue;
          try {
            for (const event of JSON.parse(field('d') ?? '[]') as WireEvent[]) if (pending.has(jobId!)) apply(jobId!, run, event);
          } catch (error) {
            settle(jobId!)?.reject(codedError(`A worker sent an event this runtime cannot read: ${errorText(error)}`, 'protocol_mismatch'));
          }
        }
      }
      // Read: what is older than the last entry goes.
      commands.xtrim(replies, 'MINID', lastId).catch(() => undefined);
    }
  }

  function settle(jobId: string): PendingRun | undefined {
    const run = pending.get(jobId);
    pending.delete(jobId);
    return run;
  }

  function apply(jobId: string, run: PendingRun, event: WireEvent): void {
    const { context } = run;
    switch (event.k) {
      case 'start':
        if (event.v !== PROTOCOL_VERSION) {
          settle(jobId)?.reject(codedError(`Worker ${event.worker} speaks protocol version ${event.v} and this runtime ${PROTOCOL_VERSION}: run the same version of subagents on both`, 'protocol_mismatch'));
        }
        return;
      case 'emit':
        context.emit(event.event);
        return;
      case 'usage':
        context.reportUsage(event.usage);
        return;
      case 'record':
        context.record(event.message);
        return;
      case 'partial':
        context.setPartialOutput(event.text);
        return;
      case 'progress':
        context.progress(event.waiting === undefined ? undefined : { waiting: event.waiting });
        return;
      case 'approval':
        // Asked here, where the handle and its approvals live; the decision goes back to the worker holding the run.
        // Kept in a key before it is published: a worker whose subscriber was away reads it when it is back (or when it polls).
        void context.requestApproval(event.ask).then((decision) => {
          if (!wire || !pending.has(jobId)) return;
          const message: ControlMessage = { job: jobId, approval: { id: event.id, decision } };
          void wire
            .then(({ commands }) => commands.multi().set(keys.decision(jobId, event.id), JSON.stringify(decision), 'PX', MARKER_TTL_MS).publish(keys.cancelChannel, JSON.stringify(message)).exec())
            .catch(() => undefined);
        });
        return;
      case 'stats':
        context.stats.apiCalls = event.apiCalls;
        context.stats.model = event.model;
        context.stats.toolTrace.push(...event.toolTrace);
        return;
      case 'done':
        settle(jobId)?.resolve({ output: event.output, ...(event.usage ? { usage: event.usage } : {}), ...(event.details ? { details: event.details } : {}) });
        return;
      case 'fail':
        settle(jobId)?.reject(codedError(event.message, event.code));
        return;
      case 'fence':
        settle(jobId)?.reject(event.lost ? new RunLostError(event.reason) : codedError(`The run's job failed on its worker: ${event.reason}`, 'worker_failed'));
        return;
    }
  }

  /** Stops a run on its worker: a marker for a worker that has not started it, a message for the one running it. */
  function cancel(jobId: string, reason: string): void {
    if (!wire) return;
    const sent = wire.then(async ({ commands, queue }) => {
      const message: ControlMessage = { job: jobId, reason };
      await Promise.allSettled([commands.set(keys.cancelled(jobId), '1', 'PX', MARKER_TTL_MS), commands.publish(keys.cancelChannel, JSON.stringify(message))]);
      // A job still waiting goes; one already taken stays with its worker, which the message stops.
      await queue.remove(jobId).catch(() => undefined);
    });
    cancels.add(sent);
    void sent.finally(() => cancels.delete(sent));
  }

  const remote: RunOf<unknown> = async (input, context) => {
    const { handle, signal } = context;
    const jobId = jobIdOf(runtimeId, handle.id, context.runId);
    const job: RunJob = { v: PROTOCOL_VERSION, reply: replies, input, spec: specOf(context), tokensLeft: context.tokensLeft() };
    const bytes = Buffer.byteLength(JSON.stringify(job));
    if (bytes > MAX_JOB_BYTES) {
      throw codedError(`The run's job is ${bytes} bytes (setup, conversation and input), over the ${MAX_JOB_BYTES} bytes a job may carry to a worker`, 'payload_too_large');
    }
    const { queue } = await connect();
    signal.throwIfAborted();
    const outcome = new Promise<AgentRunResult>((resolve, reject) => pending.set(jobId, { context, resolve, reject }));
    const onAbort = () => {
      settle(jobId)?.reject(signal.reason instanceof Error ? signal.reason : new Error('The run was stopped'));
      cancel(jobId, 'the run was stopped');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // One job per run: its id is the run's, so adding it again is the same job.
      await queue.add('run', job, { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true });
      return await outcome;
    } catch (error) {
      settle(jobId);
      throw error instanceof Error ? error : new Error(errorText(error));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };

  return {
    kind: 'run-executor',
    name: 'bullmq',
    bind(given) {
      if (binding) throw new BadArgumentError('executor', 'an executor no other runtime uses (make one per runtime)', 'one bound to another runtime');
      binding = given;
      const local = given.local;
      const mustRunLocally = given.mustRunLocally;
      const secrets = given.secrets;
      return async (input, context) => {
        if (mustRunLocally(context.handle)) return local(input, context);
        try {
          return await remote(input, context);
        } catch (error) {
          if (error instanceof RunLostError) throw error;
          throw codedError(redactSecrets(errorText(error), secrets), (error as { code?: unknown }).code as string ?? null);
        }
      };
    },
    async close() {
      closed = true;
      for (const jobId of [...pending.keys()]) settle(jobId)?.reject(new Error('The runtime shut down'));
      if (!wire) return;
      await Promise.allSettled([...cancels]);
      const { queue, events, checker, commands, reader } = await wire;
      reader.disconnect();
      await commands.del(replies).catch(() => undefined);
      await Promise.allSettled([checker.close(), events.close(), queue.close()]);
      await commands.quit().catch(() => undefined);
    },
  };
}
