/**
 * One model call, done right: one request at a time, each with its own abort
 * controller tied to the run's signal; retries of 429, 5xx and connection
 * failures made here, with waits the signal cancels; and a turn that counts
 * as finished only when the response says it is (a `finish_reason` of `stop`
 * or `tool_calls`). Whatever comes instead throws, with the text streamed so
 * far attached as partial output and every secret redacted from the message.
 */
import type OpenAI from 'openai';
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { BadArgumentError, ModelOutputError, ModelRequestError } from '../errors.js';
import type { ModelOutputReason } from '../errors.js';
import type { OpenAIFunctionTool } from '../tools/define-tool.js';
import { redactSecrets } from './inspection.js';
import {
  causeOf,
  describeError,
  headersOf,
  isRetryableStatus,
  isTransportError,
  mentionsSecret,
  retryAfterOf,
  sleep,
  statusOf,
  textOf,
} from './request-failure.js';
import { TurnAssembler } from './turn-assembler.js';
import type { ModelTurn } from './turn-assembler.js';

export { redactSecrets } from './inspection.js';
export type { ModelTurn } from './turn-assembler.js';

/** The part of an `OpenAI` client a model call uses. */
export type ChatClient = Pick<OpenAI, 'chat'>;

/** Options of {@link callModel}. */
export interface ModelCallOptions {
  client: ChatClient;
  model: string;
  messages: ChatCompletionMessageParam[];
  tools: OpenAIFunctionTool[];
  /** The run's signal; may fire at any time, and then the call throws its reason. */
  signal: AbortSignal;
  /** Stream the response (text deltas reach `onTextDelta` as they come). */
  stream: boolean;
  /** Extra request fields (temperature, …), merged into the request body. */
  requestOptions?: Record<string, unknown> | undefined;
  /** Retries of 408, 409, 429, 5xx and connection failures made by this call itself. @default 2 */
  maxRetries?: number;
  /** First backoff wait when the server gives no `Retry-After`; it doubles per retry, up to 8 s. @default 500 */
  retryBaseDelayMs?: number;
  /** Accept a response without finish_reason (some servers never send one). @default false */
  allowMissingFinishReason?: boolean;
  /** Secrets (API keys) to redact from any error text this call produces or passes on. @default [] */
  secrets?: readonly string[];
  onTextDelta?: (delta: string) => void;
  onThinkingDelta?: (delta: string) => void;
  /** Called on every chunk, response and retry wait: feeds stale detection. */
  onProgress?: () => void;
  /** Told before each retry's wait: which attempt failed, how long the wait is, and why. */
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
}

const DEFAULT_MAX_RETRIES = 2;
const DEFAULT_RETRY_BASE_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;
/** A server asking for a longer pause than this is not retried: the call fails at once and says so. */
const MAX_RETRY_AFTER_MS = 60_000;

/** The partial output of abort reasons and other foreign errors, which this module does not mutate. */
const foreignPartialOutputs = new WeakMap<object, string | null>();

/** A failed attempt: the error to throw, and whether to try again first. */
interface Failure {
  failed: true;
  error: Error;
  retry: boolean;
  retryAfterMs: number | null;
  partialOutput: string | null;
}

/**
 * Makes one model call and returns the finished turn. Throws the signal's
 * reason once it fires (never a fragment passed off as an answer); a
 * {@link ModelOutputError} for a response that is cut, truncated, filtered or
 * unreadable; a {@link ModelRequestError} for an error status or a failed
 * connection once the retries are spent. Read the text streamed before a
 * failure with {@link partialOutputOf}.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const turn = await callModel({
 *   client: new OpenAI({ apiKey }),
 *   model: 'gpt-4.1-mini',
 *   messages: [{ role: 'user', content: 'Hello' }],
 *   tools: [],
 *   signal: controller.signal,
 *   stream: true,
 *   secrets: [apiKey],
 *   onTextDelta: (delta) => process.stdout.write(delta),
 * });
 * turn.finishReason; // 'stop'
 * ```
 */
export async function callModel(options: ModelCallOptions): Promise<ModelTurn> {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const baseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new BadArgumentError('maxRetries', 'an integer >= 0', maxRetries);
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
    throw new BadArgumentError('retryBaseDelayMs', 'a finite number >= 0', baseDelayMs);
  }
  const { signal } = options;
  for (let attempt = 1; ; attempt += 1) {
    if (signal.aborted) abortWith(signal, null);
    const outcome = await attemptOnce(options, attempt);
    if (!('failed' in outcome)) {
      // A turn that finished as the signal fired is still not handed over: the run has stopped.
      if (signal.aborted) abortWith(signal, outcome.content || null);
      return outcome;
    }
    if (signal.aborted) abortWith(signal, outcome.partialOutput);
    if (!outcome.retry || attempt > maxRetries) throw outcome.error;
    options.onProgress?.();
    const retryIndex = attempt - 1;
    const delayMs = outcome.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** retryIndex) * (1 - Math.random() * 0.25);
    options.onRetry?.({ attempt, delayMs, reason: outcome.error.message });
    await sleep(delayMs, signal).catch(() => abortWith(signal, null));
  }
}

/**
 * The text a failed model call had streamed in its turn, or `null`: read
 * from the errors of this module and from the abort reason it threw.
 *
 * @example
 * ```ts
 * try {
 *   await callModel({ client, model, messages, tools: [], signal: new AbortController().signal, stream: true });
 * } catch (error) {
 *   partialOutputOf(error); // 'The report says' (cut off)
 * }
 * ```
 */
export function partialOutputOf(error: unknown): string | null {
  if (error instanceof ModelOutputError || error instanceof ModelRequestError) return error.partialOutput;
  if (typeof error !== 'object' || error === null) return null;
  return foreignPartialOutputs.get(error) ?? null;
}

function abortWith(signal: AbortSignal, partialOutput: string | null): never {
  const reason: unknown = signal.reason;
  if (typeof reason === 'object' && reason !== null) foreignPartialOutputs.set(reason, partialOutput);
  throw reason;
}

/** One HTTP request: its own controller, so the run's signal holds one listener at most and drops it after. */
async function attemptOnce(options: ModelCallOptions, attempt: number): Promise<ModelTurn | Failure> {
  const controller = new AbortController();
  const { signal } = options;
  const forwardAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forwardAbort, { once: true });
  let outcome: ModelTurn | Failure | undefined;
  try {
    outcome = options.stream ? await streamTurn(options, controller, attempt) : await completeTurn(options, controller, attempt);
    return outcome;
  } finally {
    signal.removeEventListener('abort', forwardAbort);
    // A failed attempt may leave its body open: it ends with the attempt. A
    // finished one has nothing left to stop (and an abort costs an exception).
    if (outcome === undefined || 'failed' in outcome) controller.abort();
  }
}

function requestBody(options: ModelCallOptions) {
  return {
    ...options.requestOptions,
    model: options.model,
    messages: options.messages,
    ...(options.tools.length > 0 ? { tools: options.tools } : {}),
  };
}

async function completeTurn(options: ModelCallOptions, controller: AbortController, attempt: number): Promise<ModelTurn | Failure> {
  let completion: ChatCompletion;
  try {
    completion = await options.client.chat.completions.create(
      { ...requestBody(options), stream: false },
      { signal: controller.signal, maxRetries: 0 },
    );
  } catch (error) {
    return requestFailure(error, options, attempt, 'response');
  }
  options.onProgress?.();
  const choice = completion.choices[0];
  const toolCalls = (choice?.message.tool_calls ?? []).filter(
    (call): call is ChatCompletionMessageFunctionToolCall => call.type === 'function',
  );
  const turn: ModelTurn = {
    content: choice?.message.content ?? '',
    toolCalls,
    usage: completion.usage ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens } : null,
    // Typed as always present, yet some servers leave it out.
    finishReason: (choice?.finish_reason as string | null | undefined) ?? null,
  };
  const missing = choice === undefined ? 'a response with no choices' : 'a response whose first choice has no finish_reason';
  return checkEnding(turn, options, { partialOutput: null, missing });
}

async function streamTurn(options: ModelCallOptions, controller: AbortController, attempt: number): Promise<ModelTurn | Failure> {
  let stream: AsyncIterable<ChatCompletionChunk>;
  try {
    stream = await options.client.chat.completions.create(
      { ...requestBody(options), stream: true, stream_options: { include_usage: true } },
      { signal: controller.signal, maxRetries: 0 },
    );
  } catch (error) {
    return requestFailure(error, options, attempt, 'stream');
  }
  const assembler = new TurnAssembler(options);
  const iterator = stream[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      let next: IteratorResult<ChatCompletionChunk>;
      try {
        next = await iterator.next();
      } catch (error) {
        ended = true;
        return bodyFailure(error, options, assembler);
      }
      if (next.done === true) {
        ended = true;
        break;
      }
      assembler.add(next.value);
    }
  } finally {
    // A callback threw: stop the transfer before leaving.
    if (!ended) {
      controller.abort();
      await iterator.return?.();
    }
  }
  const chunks = `${assembler.chunks} ${assembler.chunks === 1 ? 'chunk' : 'chunks'}`;
  return checkEnding(assembler.turn(), options, {
    partialOutput: assembler.partialOutput,
    missing: `a stream that ended after ${chunks} without one (connection cut?)`,
  });
}

/** Accepts a turn that ended normally; anything else becomes a {@link ModelOutputError}. */
function checkEnding(
  turn: ModelTurn,
  options: ModelCallOptions,
  context: { partialOutput: string | null; missing: string },
): ModelTurn | Failure {
  const { finishReason } = turn;
  let reason: ModelOutputReason;
  let received: string;
  if (finishReason === null) {
    if (options.allowMissingFinishReason === true) return turn;
    reason = 'stream_cut';
    received = context.missing;
  } else if (finishReason === 'length' || finishReason === 'max_tokens') {
    reason = 'output_truncated';
    received = `finish_reason \`${finishReason}\`: the output reached the token limit and was cut off`;
  } else if (finishReason === 'content_filter') {
    reason = 'content_filter';
    received = 'finish_reason `content_filter`: the provider filtered the output';
  } else if (finishReason === 'error') {
    reason = 'model_error';
    received = 'finish_reason `error`: the model failed while answering';
  } else {
    // `stop`, `tool_calls`, legacy `function_call`, and the names other servers give a normal end.
    return turn;
  }
  const error = new ModelOutputError(reason, { finishReason, partialOutput: context.partialOutput, received });
  return { failed: true, error, retry: false, retryAfterMs: null, partialOutput: context.partialOutput };
}

/** A failure before any of the response was read (or, not streaming, while reading it). */
function requestFailure(error: unknown, options: ModelCallOptions, attempts: number, mode: 'stream' | 'response'): Failure {
  const secrets = options.secrets ?? [];
  const status = statusOf(error);
  if (status !== null) {
    const headers = headersOf(error);
    const retryable = isRetryableStatus(status, headers);
    const retryAfterMs = retryable ? retryAfterOf(headers) : null;
    const tooLong = retryAfterMs !== null && retryAfterMs > MAX_RETRY_AFTER_MS;
    const message = textOf(error).replace(new RegExp(`^${status} `), '');
    const note = tooLong ? ` (the server asks to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than the ${MAX_RETRY_AFTER_MS / 1000} s a call waits)` : '';
    const detail = redactSecrets(message, secrets) + note;
    const failure = new ModelRequestError({ status, retryable, attempts, partialOutput: null, detail }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: retryable && !tooLong, retryAfterMs, partialOutput: null };
  }
  if (error instanceof APIConnectionError || (mode === 'stream' && isTransportError(error))) {
    const detail = redactSecrets(describeError(error), secrets);
    const failure = new ModelRequestError({ status: null, retryable: true, attempts, partialOutput: null, detail }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: true, retryAfterMs: null, partialOutput: null };
  }
  if (mode === 'response' && error instanceof SyntaxError) {
    const received = `a response body that does not parse: ${redactSecrets(error.message, secrets)}`;
    const failure = new ModelOutputError('malformed_response', { finishReason: null, partialOutput: null, received }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: false, retryAfterMs: null, partialOutput: null };
  }
  if (isTransportError(error)) {
    // Not streaming, the body is read inside the request: a connection lost there cut the response.
    const received = `a response body cut off before it ended: ${redactSecrets(describeError(error), secrets)}`;
    const failure = new ModelOutputError('stream_cut', { finishReason: null, partialOutput: null, received }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: true, retryAfterMs: null, partialOutput: null };
  }
  return foreignFailure(error, options, null);
}

/** A failure while reading a stream that had started. */
function bodyFailure(error: unknown, options: ModelCallOptions, assembler: TurnAssembler): Failure {
  const secrets = options.secrets ?? [];
  const { partialOutput } = assembler;
  const chunks = `${assembler.chunks} ${assembler.chunks === 1 ? 'chunk' : 'chunks'}`;
  const detail = redactSecrets(describeError(error), secrets);
  let reason: ModelOutputReason;
  let received: string;
  if (isTransportError(error)) {
    reason = 'stream_cut';
    received = `a stream cut off after ${chunks}: ${detail}`;
  } else if (error instanceof SyntaxError) {
    reason = 'malformed_response';
    received = `a chunk that does not parse after ${chunks}: ${detail}`;
  } else if (error instanceof APIError && !(error instanceof APIUserAbortError) && statusOf(error) === null) {
    // An `error` event inside the stream: the server reports its own failure.
    reason = 'model_error';
    received = `an error event after ${chunks}: ${detail}`;
  } else {
    return foreignFailure(error, options, partialOutput);
  }
  const failure = new ModelOutputError(reason, { finishReason: null, partialOutput, received }, causeOf(error, secrets));
  // What was shown cannot be taken back: retry only a stream that delivered nothing yet.
  const retry = reason === 'stream_cut' && !assembler.delivered;
  return { failed: true, error: failure, retry, retryAfterMs: null, partialOutput };
}

/** An error of no known kind: passed on as it is unless it names a secret, and never retried. */
function foreignFailure(error: unknown, options: ModelCallOptions, partialOutput: string | null): Failure {
  const secrets = options.secrets ?? [];
  let passed: Error;
  if (!(error instanceof Error)) passed = new Error(redactSecrets(textOf(error), secrets));
  else if (mentionsSecret(error, secrets)) {
    passed = new Error(redactSecrets(describeError(error), secrets));
    passed.name = error.name;
  } else passed = error;
  foreignPartialOutputs.set(passed, partialOutput);
  return { failed: true, error: passed, retry: false, retryAfterMs: null, partialOutput };
}
