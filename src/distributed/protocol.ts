/**
 * What crosses the wire between a runtime and its workers: the job a run
 * becomes, and the events a worker sends back while it runs it. Plain JSON
 * only. Both sides check the protocol version and refuse another loudly.
 */
import type { ChatMessage, RunDetails, ToolTraceEntry, Usage } from '../types.js';
import type { ApprovalAsk, ApprovalDecision } from '../toolkit/define-tool.js';
import type { RunContextOf, RunProgressEvent } from '../runtime/run-types.js';

/** The version of this protocol: a job or an event of another version is refused. */
export const PROTOCOL_VERSION = 1;

/**
 * The most bytes a job may carry (setup, conversation and input, as JSON):
 * a larger run fails at once with code `payload_too_large`, before it is queued.
 */
export const MAX_JOB_BYTES = 8 * 1024 * 1024;

/** Where Redis is: a URL (`redis://127.0.0.1:6380`), or ioredis options (`{ host, port, password, db, … }`). Declared here, away from the optional packages' types. */
export type RedisConnection = string | { url?: string; host?: string; port?: number; [option: string]: unknown };

/** The queue runs go to unless another is named. */
export const DEFAULT_QUEUE = 'subagents-runs';

/**
 * What a run's context holds as plain data: everything but its signal, its
 * tools (sent by name, in the handle's setup), its stats (sent back), its
 * runtime and its functions. Taken whole, not field by field: whatever plain
 * field a run's context gains (a per-run limit) reaches the worker as it is.
 */
export type RunSpec = {
  [K in keyof RunContextOf<unknown> as K extends 'signal' | 'tools' | 'stats' | 'runtime' ? never : RunContextOf<unknown>[K] extends (...args: never[]) => unknown ? never : K]: RunContextOf<unknown>[K];
};

/** The job of one run. */
export interface RunJob {
  v: number;
  /** The stream its events go back to (the runtime's own). */
  reply: string;
  input: string;
  /** The run's context as plain data: the handle (and its setup), the run id, the working directory, the conversation, … */
  spec: RunSpec;
  /**
   * The tokens the run may spend, as its handle's budget and `maxRunTokens`
   * left them when it was queued (`null`: unbounded): the worker caps each
   * request at what is left of it. The runtime's chart still ends the run at
   * the limit by a transition, from the usage the worker streams back.
   */
  tokensLeft?: number | null;
}

/** A run context's plain data, for its job (see {@link RunSpec}). */
export function specOf(context: RunContextOf<unknown>): RunSpec {
  const { signal: _signal, tools: _tools, stats: _stats, runtime: _runtime, ...rest } = context;
  return Object.fromEntries(Object.entries(rest).filter(([, value]) => typeof value !== 'function')) as RunSpec;
}

/** One event a worker sends back; a batch of them is one stream entry. */
export type WireEvent =
  | { k: 'start'; v: number; worker: string }
  | { k: 'emit'; event: RunProgressEvent }
  | { k: 'usage'; usage: Usage }
  | { k: 'record'; message: ChatMessage }
  | { k: 'partial'; text: string | null }
  | { k: 'progress'; waiting?: boolean }
  /** A tool call of the run needs approval: the runtime asks (its `onApproval`, `runtime.approve`) and publishes the decision. */
  | { k: 'approval'; id: number; ask: ApprovalAsk }
  /** The run's stats: `apiCalls` and `model` as they are now, `toolTrace` the entries added since the last. */
  | { k: 'stats'; apiCalls: number; model: string | null; toolTrace: ToolTraceEntry[] }
  | { k: 'done'; output: string; usage?: Usage; details?: RunDetails }
  | { k: 'fail'; message: string; code: string | null }
  /** Written by the runtime itself after the queue told it a job is lost: everything the worker wrote before is read by then. */
  | { k: 'fence'; reason: string; lost: boolean };

/** The Redis keys of a queue beside BullMQ's own. */
export function keysOf(queue: string) {
  const base = `subagents:${queue}`;
  return {
    /** Where a runtime reads its runs' events. */
    replies: (runtimeId: string) => `${base}:replies:${runtimeId}`,
    /** Cancel requests and approval decisions, published to every worker. */
    cancelChannel: `${base}:cancel`,
    /** Set when a run is cancelled, so a worker that picks its job up later does not start it. */
    cancelled: (jobId: string) => `${base}:cancelled:${jobId}`,
    /** Set once by the worker that starts a run: a second delivery of its job never runs the model again. */
    started: (jobId: string) => `${base}:started:${jobId}`,
    /** The decision on an approval a run asked for, kept until its worker read it (a published one is lost while its subscriber reconnects). */
    decision: (jobId: string, id: number) => `${base}:decision:${jobId}:${id}`,
  };
}

/** The job id of a run: one job per run (BullMQ ids may not contain `:`). */
export function jobIdOf(runtimeId: string, handleId: string, runId: number): string {
  return `${runtimeId}_${handleId}_${runId}`;
}

/** What the runtime publishes to the workers: a cancel, or the decision on an approval a run asked for. */
export type ControlMessage = { job: string; reason: string; approval?: undefined } | { job: string; approval: { id: number; decision: ApprovalDecision } };

/** Markers kept in Redis this long (started, cancelled). */
export const MARKER_TTL_MS = 24 * 60 * 60 * 1000;
