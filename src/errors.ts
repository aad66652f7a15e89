/**
 * Every public error the library throws. Each one carries the data a caller
 * needs to react without parsing the message, and a message that says what
 * was expected and what came.
 */
import { redactSecrets } from './secrets.js';

/** Base class of every error thrown by subagents. */
export abstract class SubagentsError extends Error {
  /** A stable machine-readable code, also used by the LLM-facing tools. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No handle (or delegation) is known under the given id. */
export class UnknownHandleError extends SubagentsError {
  readonly code = 'unknown_handle';
  constructor(
    readonly handleId: string,
    readonly known: readonly string[] = [],
  ) {
    const hint =
      known.length === 0
        ? 'no handles exist'
        : `known ids: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`;
    super(`Expected the id of an existing subagent handle, got \`${handleId}\` (${hint})`);
  }
}

/** The handle is closed and takes no input until it is resumed. */
export class HandleClosedError extends SubagentsError {
  readonly code = 'handle_closed';
  constructor(readonly handleId: string) {
    super(`Handle \`${handleId}\` is closed and takes no input; call resume(\`${handleId}\`) first`);
  }
}

/** The handle's status does not allow the operation (the chart refused it). */
export class HandleStateError extends SubagentsError {
  readonly code = 'invalid_state';
  constructor(
    readonly handleId: string,
    readonly expected: string,
    readonly status: string,
  ) {
    super(`Expected \`${handleId}\` to be ${expected}, got a handle whose status is ${status}`);
  }
}

/** A spawn was asked of a parent that already sits at the maximum depth. */
export class DepthLimitError extends SubagentsError {
  readonly code = 'depth_limit';
  constructor(
    readonly depth: number,
    readonly maxSpawnDepth: number,
  ) {
    super(
      `Expected the parent's depth to be below maxSpawnDepth (${maxSpawnDepth}), got depth ${depth}; ` +
        `raise \`maxSpawnDepth\` in createRuntime() to allow deeper nesting`,
    );
  }
}

/** Spawning is paused: new spawns fail fast while running children go on. */
export class SpawningPausedError extends SubagentsError {
  readonly code = 'spawning_paused';
  constructor() {
    super('Spawning is paused; call pauseSpawning(false) to allow new subagents');
  }
}

/** Too many background delegations are in flight. */
export class BackgroundLimitError extends SubagentsError {
  readonly code = 'background_limit';
  constructor(
    readonly active: number,
    readonly maxBackground: number,
  ) {
    super(
      `Expected fewer than ${maxBackground} background delegations in flight, got ${active}; ` +
        `wait for one to finish or raise \`maxBackground\``,
    );
  }
}

/** An argument did not have the expected shape or value. */
export class BadArgumentError extends SubagentsError {
  readonly code = 'bad_argument';
  /**
   * What came: the value itself when it is a primitive, else its description
   * (`an object`, `an array of 3`), so a client or a key never rides on an
   * error into a log.
   */
  readonly received: string | number | boolean | bigint | null | undefined;
  constructor(
    readonly argument: string,
    readonly expected: string,
    received: unknown,
  ) {
    super(`Expected \`${argument}\` to be ${expected}, got ${describeValue(received)}`);
    this.received =
      received === null || ['number', 'boolean', 'bigint', 'undefined'].includes(typeof received) || (typeof received === 'string' && redactSecrets(received) === received)
        ? (received as string | number | boolean | bigint | null | undefined)
        : describeValue(received);
    if (typeof this.received === 'string' && this.received.length > 200) this.received = `${this.received.slice(0, 200)}…`;
  }
}

/**
 * A delegation carried more tasks than the batch size it was given
 * (`maxBatchSize`). A bad argument (`tasks`) that also says which limit.
 */
export class BatchSizeError extends BadArgumentError {
  constructor(
    readonly count: number,
    readonly maxBatchSize: number,
  ) {
    super('tasks', `at most ${maxBatchSize} tasks per call (maxBatchSize)`, count);
    this.message = `Expected \`tasks\` to hold at most ${maxBatchSize} tasks per call (maxBatchSize), got ${count}`;
  }
}

/**
 * The MCP server needs `@modelcontextprotocol/sdk`, an optional peer
 * dependency that is not installed. The message says how to install it.
 */
export class McpSdkMissingError extends SubagentsError {
  readonly code = 'mcp_sdk_missing';
  constructor(options?: ErrorOptions) {
    super(
      'Expected the optional peer dependency `@modelcontextprotocol/sdk` (1.x) to be installed for the MCP server, got none; ' +
        'install it with `npm install @modelcontextprotocol/sdk` (next to subagents)',
      options,
    );
  }
}

/** `bullmqExecutor` or `createWorker` was used without the optional peers `bullmq` and `ioredis`. */
export class RedisPackagesMissingError extends SubagentsError {
  readonly code = 'redis_packages_missing';
  constructor(options?: ErrorOptions) {
    super(
      'Expected the optional peer dependencies `bullmq` (6.x) and `ioredis` (6.x) to be installed to run child runs on workers, got none; ' +
        'install them with `npm install bullmq ioredis` (next to subagents)',
      options,
    );
  }
}

/** The runtime was shut down and accepts no more work. */
export class RuntimeShutDownError extends SubagentsError {
  readonly code = 'runtime_shut_down';
  constructor() {
    super('The runtime has been shut down and accepts no more work');
  }
}

/**
 * A lifecycle check (`checkLifecycle` of `subagents/testing`) found a step
 * where the runtime or your run did not do what the handle spec says. The
 * message holds the path up to that step, ready to paste into a test.
 */
export class LifecycleCheckError extends SubagentsError {
  readonly code = 'lifecycle_check';
  constructor(
    /** The steps after `spawn`, up to and including the one that failed. */
    readonly path: readonly string[],
    /** What went wrong, in a sentence. */
    readonly problem: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${problem}\n  path:     ${['spawn', ...path].join(' → ')}\n  expected: ${expected}\n  actual:   ${actual}`);
  }
}

/**
 * `checkDelegationFlows` found a flow of tool calls that breaks an invariant:
 * `calls` are the calls a parent agent made, up to the one after which the
 * check failed, as few as still fail.
 */
export class DelegationFlowCheckError extends SubagentsError {
  readonly code = 'delegation_flow_check';
  constructor(
    /** The calls, each `tool({…arguments})`, in order. */
    readonly calls: readonly string[],
    /** What went wrong, in a sentence. */
    readonly problem: string,
    readonly expected: string,
    readonly actual: string,
    /** The seed and the flow (0-based) of the first failure. */
    readonly seed: number,
    readonly flow: number,
  ) {
    super(`${problem}\n  calls:    ${calls.join(' → ') || '(none)'}\n  expected: ${expected}\n  actual:   ${actual}\n  found by: seed ${seed}, flow ${flow}`);
  }
}

/**
 * Renders a received value for an error message: short, with its type, never
 * the whole of a huge string.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // A key given where something else was expected must not ride on the error.
    const redacted = redactSecrets(value);
    if (redacted !== value) return `a string of ${value.length} characters shaped like a credential (not shown)`;
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return `string \`${shown}\`${value.length > 60 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} \`${String(value)}\``;
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return describeZodSchema(value) ?? 'an object';
}

/** `a zod 3 schema (ZodObject)` or `a zod 4 string schema`, for a zod schema; `null` for anything else. */
function describeZodSchema(value: object): string | null {
  const zod4 = (value as { _zod?: { def?: { type?: unknown } } })._zod?.def?.type;
  if (typeof zod4 === 'string') return `a zod 4 ${zod4} schema`;
  const zod3 = (value as { _def?: { typeName?: unknown } })._def?.typeName;
  return typeof zod3 === 'string' ? `a zod 3 schema (${zod3})` : null;
}

/** Why a model response was not a finished answer. */
export type ModelOutputReason = 'stream_cut' | 'output_truncated' | 'content_filter' | 'model_error' | 'malformed_response';

const EXPECTED_OUTPUT: Record<ModelOutputReason, string> = {
  stream_cut: "the model's response to end with a finish_reason",
  output_truncated: "the model's response to end with finish_reason `stop` or `tool_calls`",
  content_filter: "the model's response to end with finish_reason `stop` or `tool_calls`",
  model_error: "the model's response to end with finish_reason `stop` or `tool_calls`",
  malformed_response: "the model's response to be OpenAI chat-completion JSON",
};

/**
 * A model call got a response that is not a finished answer: cut off, stopped
 * at the token limit, filtered, failed on the model's side, or unreadable.
 * What was streamed before the failure is in `partialOutput`, never passed
 * off as the answer.
 */
export class ModelOutputError extends SubagentsError {
  readonly code = 'model_output';
  /** The `finish_reason` the response ended with, or `null` when it sent none. */
  readonly finishReason: string | null;
  /** The text streamed in this turn before it failed, or `null` when there was none. */
  readonly partialOutput: string | null;
  /** The tokens the server reported for this response (a cut-off answer is still paid for), or `null`. */
  readonly usage: { inputTokens: number; outputTokens: number } | null;
  /**
   * @param received what came instead of a finished answer, for the message
   *   (for example `a stream that ended after 3 chunks without one (connection cut?)`).
   */
  constructor(
    readonly reason: ModelOutputReason,
    details: { finishReason: string | null; partialOutput: string | null; received: string; usage?: { inputTokens: number; outputTokens: number } | null },
    options?: ErrorOptions,
  ) {
    super(`${reason}: expected ${EXPECTED_OUTPUT[reason]}, got ${details.received}`, options);
    this.finishReason = details.finishReason;
    this.partialOutput = details.partialOutput;
    this.usage = details.usage ?? null;
  }
}

/**
 * A model request failed: an HTTP error status, or a connection that failed
 * before the response. `retryable` says whether the failure is of a kind that
 * passes (429, 5xx, connection errors); `attempts` counts the requests made.
 */
export class ModelRequestError extends SubagentsError {
  readonly code = 'model_request';
  /** The HTTP status, or `null` when no response came (a connection error). */
  readonly status: number | null;
  /** 408, 409, 429, 5xx and connection errors are; other statuses are not. */
  readonly retryable: boolean;
  /** Requests made, retries included. */
  readonly attempts: number;
  /** The text streamed in this turn before it failed, or `null` when there was none. */
  readonly partialOutput: string | null;
  /**
   * @param detail what the endpoint or the connection said, already free of secrets.
   */
  constructor(
    details: { status: number | null; retryable: boolean; attempts: number; partialOutput: string | null; detail: string },
    options?: ErrorOptions,
  ) {
    const tries = `${details.attempts} ${details.attempts === 1 ? 'attempt' : 'attempts'}`;
    super(
      details.status === null
        ? `Expected a response from the model endpoint, got a connection failure after ${tries}: ${details.detail}`
        : `Expected a successful response from the model endpoint, got HTTP ${details.status} after ${tries}: ${details.detail}`,
      options,
    );
    this.status = details.status;
    this.retryable = details.retryable;
    this.attempts = details.attempts;
    this.partialOutput = details.partialOutput;
  }
}

/** A run used all its model calls (`maxIterations`) without the model giving a final answer. */
export class MaxIterationsError extends SubagentsError {
  readonly code = 'max_iterations';
  constructor(readonly maxIterations: number) {
    super(`Expected a final answer within maxIterations (${maxIterations} model calls), got a model still calling tools; the run was stopped`);
  }
}

/**
 * The store's directory is held by another live process on this host (its
 * lock file names it). A holder whose pid is dead is taken over instead.
 * For `redisStore`, `directory` names the Redis and the prefix, and `pid` the
 * holder's process (on its host).
 */
export class StoreLockedError extends SubagentsError {
  readonly code = 'store_locked';
  constructor(
    readonly directory: string,
    readonly pid: number,
    /** What to do about it. */
    advice = 'stop that process or use another directory',
  ) {
    super(`Expected the store \`${directory}\` to be free, got a lock held by the live process ${pid}; ${advice}`);
  }
}

/**
 * A store file holds a record that cannot be read, somewhere other than a
 * torn last line (which is dropped on open): the file and the line say where.
 */
export class StoreCorruptError extends SubagentsError {
  readonly code = 'store_corrupt';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`Expected a JSON record on line ${line} of \`${file}\`, got ${reason}; the store cannot be opened until that line is repaired or removed`);
  }
}

/** A request would be over `maxConversationTokens` even with every older turn left out. */
export class ConversationTooLongError extends SubagentsError {
  readonly code = 'conversation_too_long';
  constructor(
    readonly estimatedTokens: number,
    readonly maxTokens: number,
  ) {
    super(
      `The conversation needs about ${estimatedTokens} tokens with only the system prompt, the input and the last turn, ` +
        `over maxConversationTokens (${maxTokens}); raise maxConversationTokens or send a shorter input.`,
    );
    this.name = 'ConversationTooLongError';
  }
}

/**
 * A handle's git worktree (`isolation: 'worktree'`) could not be made: its
 * directory is not in a git repository, the repository has no commit, the
 * branch or directory already exists, or git failed. The run fails with it;
 * it never falls back to working in the parent's tree.
 */
export class WorktreeError extends SubagentsError {
  readonly code = 'worktree_failed';
  constructor(
    readonly handleId: string,
    readonly reason: string,
  ) {
    super(`Expected to make a git worktree for \`${handleId}\` (isolation 'worktree'), but ${reason}; the run did not start in another directory.`);
  }
}
