/**
 * A worker: takes run jobs off a BullMQ queue and runs each through the
 * model loop with the providers and tools it was given, streaming back what
 * the run reports, in order, to the runtime that queued it.
 */
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { BadArgumentError } from '../errors.js';
import { errorCodeOf, errorText } from '../machines/handle.js';
import { redactingLogger, resolveLogger } from '../logger.js';
import type { Logger, LogLevel } from '../logger.js';
import { MIN_SECRET_LENGTH, redactSecrets } from '../secrets.js';
import type { AnyTool, ApprovalDecision } from '../toolkit/define-tool.js';
import { createToolRegistry } from '../toolkit/toolsets.js';
import type { RunDetails, RunStats, Usage } from '../types.js';
import { addUsage } from '../usage.js';
import { MODEL_RUN_KEYS, buildModelRun, providerClient, providerStates, startModelRun } from '../runtime/model-run.js';
import type { ModelRunOptions } from '../runtime/model-run.js';
import type { AgentRunResult, RunContextOf } from '../runtime/run-types.js';
import { rejectUnknownKeys } from '../runtime/validate.js';
import { bullmqConnection, connectionOptions, loadRedisPackages } from './connection.js';
import type { RedisConnection } from './protocol.js';
import { DEFAULT_QUEUE, MARKER_TTL_MS, PROTOCOL_VERSION, keysOf } from './protocol.js';
import type { ControlMessage, RunJob, RunSpec, WireEvent } from './protocol.js';

/** What `createWorker` takes: the queue, the providers its runs' model calls go to, and its tools. */
export interface WorkerOptions extends Omit<ModelRunOptions, 'model'> {
  /** The Redis the runtime's `bullmqExecutor` uses. */
  connection: RedisConnection;
  /** @default 'subagents-runs' */
  queue?: string;
  /**
   * The model a provider without its own uses. Runs name their model (the
   * runtime's setup), so this is only a fallback. @default none
   */
  model?: string;
  /** The tools runs may call, by name: a run whose handle has a tool missing here fails with code `tool_missing`. @default [] */
  tools?: readonly AnyTool[];
  /** Runs at once on this worker. @default 16 */
  concurrency?: number;
  /**
   * How long a run's lock lasts without renewal (renewed at half of it): a
   * worker that dies mid-run is found by the queue's stalled check after at
   * most `lockDuration + 2 × stalledInterval`, and its run ends `interrupted`
   * with the reason "worker lost". @default 5000
   */
  lockDuration?: number;
  /** How often this worker looks for stalled runs (a dead worker's). @default 2500 */
  stalledInterval?: number;
  /** Where the worker reports what goes wrong (secrets redacted), and, at `info`, each run it starts and ends. @default the console at `warn` */
  logger?: Logger | LogLevel;
}

/** A started worker. */
export interface SubagentsWorker {
  /** Unique per worker: shown in logs. */
  readonly id: string;
  /** Runs in flight on this worker. */
  readonly running: number;
  /** Runs this worker started since it was created. */
  readonly started: number;
  /** Stops taking jobs, waits for the runs in flight to end, and closes its connections. */
  close(): Promise<void>;
}

/** How often a worker reads the kept decisions of the approvals its runs wait for. */
const DECISION_POLL_MS = 1_000;

const WORKER_KEYS: readonly string[] = [...MODEL_RUN_KEYS, 'connection', 'queue', 'tools', 'concurrency', 'lockDuration', 'stalledInterval', 'logger'];

function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BadArgumentError(field, 'an integer >= 1', value);
  return value;
}

/** A run's events, batched per tick into one stream entry each; entries go out in order on one connection. */
class EventWriter {
  private pending: WireEvent[] = [];
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: RedisClient,
    private readonly stream: string,
    private readonly jobId: string,
    /** The run's stats when they changed since the last flush: sent first in the batch (they are as new as anything in it). */
    private readonly statsChange: () => WireEvent | null,
  ) {}

  push(event: WireEvent): void {
    // Plain progress adds nothing to a batch that already says the run is alive.
    if (event.k === 'progress' && event.waiting === undefined && this.pending.length > 0) return;
    this.pending.push(event);
    this.scheduled ??= setImmediate(() => void this.flush());
  }

  /** Sends what is pending; resolves once everything sent so far is in Redis. */
  flush(): Promise<unknown> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const stats = this.statsChange();
    if (stats) this.pending.unshift(stats);
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      this.last = this.redis.xadd(this.stream, '*', 'j', this.jobId, 'd', JSON.stringify(batch)).catch(() => undefined);
    }
    return this.last;
  }
}

/**
 * Starts a worker that runs the runtime's child runs. Give it the providers
 * the runtime's handles name (same names) and the tools they may call.
 *
 * @example
 * ```ts
 * const worker = await createWorker({ connection: 'redis://127.0.0.1:6380', providers: { default: { client: new OpenAI(), model: 'gpt-4.1-mini' } }, tools: [readFile] });
 * process.on('SIGTERM', () => void worker.close());
 * ```
 */
export async function createWorker(options: WorkerOptions): Promise<SubagentsWorker> {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object with `connection` and `providers` (or `client`)', options);
  rejectUnknownKeys(options, WORKER_KEYS);
  const connection = connectionOptions('connection', options.connection);
  const queueName = options.queue ?? DEFAULT_QUEUE;
  if (typeof queueName !== 'string' || !/^[\w.-]{1,100}$/.test(queueName)) throw new BadArgumentError('queue', 'a queue name of letters, digits, `_`, `-` or `.`', queueName);
  if (options.tools !== undefined && !Array.isArray(options.tools)) throw new BadArgumentError('tools', 'an array of tools from defineTool()', options.tools);
  const toolsByName = new Map(createToolRegistry(options.tools ?? []).tools.map((tool) => [tool.name, tool]));
  const concurrency = positiveInteger('concurrency', options.concurrency, 16);
  const lockDuration = positiveInteger('lockDuration', options.lockDuration, 5_000);
  const stalledInterval = positiveInteger('stalledInterval', options.stalledInterval, 2_500);
  const { connection: _connection, queue: _queue, tools: _tools, concurrency: _concurrency, lockDuration: _lock, stalledInterval: _stalled, logger: givenLogger, ...modelOptions } = options;
  // Runs name their model; a placeholder stands in for a default nobody reads.
  const strategy = buildModelRun({ ...modelOptions, model: modelOptions.model ?? 'the model each run names' });
  const secrets = strategy.secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH);
  const logger = redactingLogger(resolveLogger(givenLogger), secrets);
  const states = providerStates(strategy);
  const clients = new Map([...strategy.providers.keys()].map((name) => [name, providerClient(strategy, name, givenLogger === undefined ? null : logger)]));
  const run = startModelRun(strategy, {
    clientOf: (name) => clients.get(name)!,
    logger,
    secrets,
    // Background delegations live in the runtime: a run here has none.
    inboxFor: () => ({ drain: () => [], next: () => Promise.resolve(null) }),
    states,
  });

  const { bullmq, connect } = await loadRedisPackages();
  const id = `worker-${randomUUID().slice(0, 8)}`;
  const keys = keysOf(queueName);
  const commands = connect(connection, `subagents:${id}:commands`);
  const subscriber = connect(connection, `subagents:${id}:cancel`);
  commands.on('error', () => {});
  subscriber.on('error', () => {});
  /** Runs in flight here, by job id. */
  const active = new Map<string, AbortController>();
  let started = 0;
  /** Approvals runs here wait for, by job id and request number: where their decision is kept, and what takes it. */
  const approvals = new Map<string, { key: string; settle(this: void, decision: ApprovalDecision): void }>();
  /** The kept decisions of the approvals waited for: read once the subscriber is back, and every second while any waits. */
  const readDecisions = async () => {
    const waiting = [...approvals.values()];
    if (waiting.length === 0) return;
    const texts = await commands.mget(...waiting.map((entry) => entry.key));
    texts.forEach((text, index) => text !== null && waiting[index]!.settle(JSON.parse(text) as ApprovalDecision));
  };
  const decisionPoll = setInterval(() => void readDecisions().catch(() => undefined), DECISION_POLL_MS);
  decisionPoll.unref();
  subscriber.on('message', (_channel: string, text: string) => {
    try {
      const message = JSON.parse(text) as ControlMessage;
      if (message.approval) approvals.get(`${message.job}#${message.approval.id}`)?.settle(message.approval.decision);
      else active.get(message.job)?.abort(new Error(message.reason));
    } catch {
      // Not a message of ours.
    }
  });
  await subscriber.subscribe(keys.cancelChannel);
  // Published cancels are lost while the subscriber is away: once it is back (subscribed again), the markers say which runs were stopped.
  let subscribedBefore = true;
  subscriber.on('close', () => (subscribedBefore = false));
  subscriber.on('ready', () => {
    if (subscribedBefore) return;
    subscribedBefore = true;
    void (async () => {
      await subscriber.subscribe(keys.cancelChannel);
      for (const [jobId, controller] of active) {
        if ((await commands.exists(keys.cancelled(jobId))) === 1) controller.abort(new Error('the run was stopped while this worker was disconnected'));
      }
      await readDecisions();
    })().catch(() => undefined);
  });

  const fail = (message: string, code: string) => Object.assign(new Error(message), { code });

  async function process(job: Job<RunJob>, _token?: string, signal?: AbortSignal): Promise<string> {
    const jobId = job.id!;
    const data = job.data;
    if (typeof data?.reply !== 'string') throw new bullmq.UnrecoverableError(`job \`${jobId}\` is not a run of subagents`);
    const controller = new AbortController();
    active.set(jobId, controller);
    const abortFromQueue = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', abortFromQueue, { once: true });
    const stats: RunStats = { apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model: null, startedAt: performance.now() };
    let sentApiCalls = 0;
    let sentModel: string | null = null;
    let sentTrace = 0;
    let approvalSeq = 0;
    const writer = new EventWriter(commands, data.reply, jobId, () => {
      if (stats.apiCalls === sentApiCalls && stats.model === sentModel && stats.toolTrace.length === sentTrace) return null;
      const change: WireEvent = { k: 'stats', apiCalls: stats.apiCalls, model: stats.model, toolTrace: stats.toolTrace.slice(sentTrace) };
      sentApiCalls = stats.apiCalls;
      sentModel = stats.model;
      sentTrace = stats.toolTrace.length;
      return change;
    });
    try {
      if (data.v !== PROTOCOL_VERSION) {
        throw fail(`The run's job has protocol version ${String(data.v)} and this worker speaks version ${PROTOCOL_VERSION}: run the same version of subagents on the runtime and its workers`, 'protocol_mismatch');
      }
      // One start per run, whatever the deliveries: a second delivery of the job never runs the model again.
      const first = await commands.set(keys.started(jobId), id, 'PX', MARKER_TTL_MS, 'NX');
      if (first !== 'OK') throw new bullmq.UnrecoverableError(`the run of job \`${jobId}\` was started before (a duplicate delivery): not run again`);
      if ((await commands.exists(keys.cancelled(jobId))) === 1) throw new bullmq.UnrecoverableError(`the run of job \`${jobId}\` was cancelled before it started`);
      started += 1;
      const { spec } = data;
      logger.info(`worker ${id} runs ${spec.handle.id} (run ${spec.runId})`);
      writer.push({ k: 'start', v: PROTOCOL_VERSION, worker: id });
      const setup = spec.handle.setup;
      if (!setup) throw fail(`Handle \`${spec.handle.id}\` has no model setup: only model runs go to workers`, 'no_setup');
      const missing = setup.tools.filter((name) => !toolsByName.has(name));
      if (missing.length > 0) {
        const has = [...toolsByName.keys()];
        throw fail(
          `The tool${missing.length > 1 ? 's' : ''} ${missing.map((name) => `\`${name}\``).join(', ')} of handle \`${spec.handle.id}\` ${missing.length > 1 ? 'are' : 'is'} not registered on worker ${id} ` +
            `(it has ${has.length > 0 ? has.map((name) => `\`${name}\``).join(', ') : 'no tools'}): give ${missing.length > 1 ? 'them' : 'it'} to createWorker({ tools })`,
          'tool_missing',
        );
      }
      if (!strategy.providers.has(setup.provider)) {
        throw fail(`The provider \`${setup.provider}\` of handle \`${spec.handle.id}\` is not configured on worker ${id} (it has ${[...strategy.providers.keys()].join(', ')})`, 'provider_missing');
      }
      const context: RunContextOf<null> = {
        signal: controller.signal,
        // The run's plain data whole (whatever fields the runtime's run context has), then what lives here.
        ...spec,
        stats,
        tools: setup.tools.map((name) => toolsByName.get(name)!),
        tokensLeft: () => (data.tokensLeft === undefined || data.tokensLeft === null ? null : Math.max(0, data.tokensLeft - stats.usage.inputTokens - stats.usage.outputTokens)),
        emit: (event) => void (controller.signal.aborted || writer.push({ k: 'emit', event })),
        reportUsage: (usage: Usage) => {
          if (controller.signal.aborted) return;
          addUsage(stats.usage, usage);
          writer.push({ k: 'usage', usage });
        },
        record: (message) => void (controller.signal.aborted || writer.push({ k: 'record', message })),
        setPartialOutput: (text) => void (controller.signal.aborted || writer.push({ k: 'partial', text })),
        requestApproval: (ask) => {
          const request = (approvalSeq += 1);
          const key = `${jobId}#${request}`;
          return new Promise<ApprovalDecision>((resolve) => {
            const ended = () => settle({ requestId: '', approved: false, reason: 'the run ended before an answer came', decidedBy: 'run-ended' });
            const settle = (decision: ApprovalDecision) => {
              if (!approvals.delete(key) && !controller.signal.aborted) return;
              controller.signal.removeEventListener('abort', ended);
              void commands.del(keys.decision(jobId, request)).catch(() => undefined);
              resolve(decision);
            };
            if (controller.signal.aborted) return ended();
            approvals.set(key, { key: keys.decision(jobId, request), settle });
            controller.signal.addEventListener('abort', ended, { once: true });
            writer.push({ k: 'approval', id: approvalSeq, ask });
          });
        },
        progress: (state) => void (controller.signal.aborted || writer.push(state?.waiting === undefined ? { k: 'progress' } : { k: 'progress', waiting: state.waiting })),
        runtime: null,
      };
      const result = normalise(await run(data.input, context));
      writer.push({ k: 'done', ...result });
      await writer.flush();
      logger.info(`worker ${id} ended run ${spec.runId} of ${spec.handle.id}: completed`);
      return 'completed';
    } catch (error) {
      if (error instanceof bullmq.UnrecoverableError) throw error;
      const message = redactSecrets(errorText(error), secrets);
      // A stopped run's outcome was decided by the runtime; the failure is still sent, and ignored there.
      writer.push({ k: 'fail', message, code: errorCodeOf(error) });
      await writer.flush();
      const spec = data.spec as RunSpec | undefined;
      logger.info(`worker ${id} ended ${spec?.handle ? `run ${spec.runId} of ${spec.handle.id}` : `job ${jobId}`}: ${controller.signal.aborted ? 'stopped' : 'failed'}`);
      // Never retried: a run has one outcome.
      throw new bullmq.UnrecoverableError(message);
    } finally {
      signal?.removeEventListener('abort', abortFromQueue);
      active.delete(jobId);
    }
  }

  const worker = new bullmq.Worker<RunJob>(queueName, process, {
    connection: bullmqConnection(connection),
    concurrency,
    lockDuration,
    stalledInterval,
    // A run is never started twice: a stalled one fails (the runtime ends it `interrupted`, "worker lost").
    maxStalledCount: 0,
    name: id,
  });
  worker.on('error', (error) => logger.debug(`worker ${id}: ${errorText(error)}`));
  // A run whose lock is no longer this worker's is lost here (the queue lost it, or took it back as stalled): its work stops.
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const jobId of jobIds) active.get(jobId)?.abort(new Error('this worker lost the lock of the run'));
  });
  await worker.waitUntilReady();

  return {
    id,
    get running() {
      return active.size;
    },
    get started() {
      return started;
    },
    async close() {
      await worker.close();
      clearInterval(decisionPoll);
      await Promise.allSettled([subscriber.quit(), commands.quit()]);
    },
  };
}

function normalise(result: AgentRunResult): { output: string; usage?: Usage; details?: RunDetails } {
  if (typeof result === 'string') return { output: result };
  return { output: String(result.output ?? ''), ...(result.usage ? { usage: result.usage } : {}), ...(result.details ? { details: result.details } : {}) };
}
