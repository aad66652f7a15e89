/**
 * What a failed attempt at a model call comes to: the error to throw (with
 * every secret redacted and the text streamed so far attached), and whether
 * the call may try again. A status error is retried when the server allows
 * it (408, 409, 429, 5xx, `x-should-retry`) and asks for no longer a wait
 * than a call makes; a lost connection before anything was shown is retried;
 * a cut, unreadable or failed response is not.
 */
import { ModelOutputError, ModelRequestError } from '../errors.js';
import type { ModelOutputReason } from '../errors.js';
import { redactSecrets } from '../secrets.js';
import type { ModelCallOptions } from './model-request.js';
import {
  causeOf,
  describeError,
  headersOf,
  isConnectionError,
  isRetryableStatus,
  isStreamErrorEvent,
  isTransportError,
  mentionsSecret,
  openaiErrorClasses,
  retryAfterOf,
  statusOf,
  textOf,
} from './request-failure.js';
import type { TurnAssembler } from './turn-assembler.js';

/** A server asking for a longer pause than this is not retried: the call fails at once and says so. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** A failed attempt: the error to throw, and whether to try again first. */
export interface Failure {
  failed: true;
  error: Error;
  retry: boolean;
  /** The wait the server asked for, or `null` for the call's own backoff. */
  retryAfterMs: number | null;
  partialOutput: string | null;
}

/** The partial output of abort reasons and other foreign errors, which this module does not mutate. */
const foreignPartialOutputs = new WeakMap<object, string | null>();

/**
 * The text a failed model call had streamed in its turn, or `null`: read
 * from the errors of the call and from the abort reason it threw.
 *
 * @example
 * ```ts
 * try {
 *   await callModel({ client, model, messages: [{ role: 'user', content: 'Hi' }], tools: [], signal: new AbortController().signal, stream: true });
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

/** Throws the signal's reason, with the text streamed so far remembered for {@link partialOutputOf}. */
export function abortWith(signal: AbortSignal, partialOutput: string | null): never {
  const reason: unknown = signal.reason;
  if (typeof reason === 'object' && reason !== null) foreignPartialOutputs.set(reason, partialOutput);
  throw reason;
}

/** A failure before any of the response was read (or, not streaming, while reading it). */
export async function requestFailure(
  error: unknown,
  options: Pick<ModelCallOptions, 'secrets'>,
  attempts: number,
  mode: 'stream' | 'response',
): Promise<Failure> {
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
  const classes = await openaiErrorClasses();
  if (isConnectionError(error, classes) || (mode === 'stream' && isTransportError(error, classes))) {
    const detail = redactSecrets(describeError(error), secrets);
    const failure = new ModelRequestError({ status: null, retryable: true, attempts, partialOutput: null, detail }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: true, retryAfterMs: null, partialOutput: null };
  }
  if (mode === 'response' && error instanceof SyntaxError) {
    const received = `a response body that does not parse: ${redactSecrets(error.message, secrets)}`;
    const failure = new ModelOutputError('malformed_response', { finishReason: null, partialOutput: null, received }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: false, retryAfterMs: null, partialOutput: null };
  }
  if (isTransportError(error, classes)) {
    // Not streaming, the body is read inside the request: a connection lost there cut the response.
    const received = `a response body cut off before it ended: ${redactSecrets(describeError(error), secrets)}`;
    const failure = new ModelOutputError('stream_cut', { finishReason: null, partialOutput: null, received }, causeOf(error, secrets));
    return { failed: true, error: failure, retry: true, retryAfterMs: null, partialOutput: null };
  }
  return foreignFailure(error, options, null);
}

/** A failure while reading a stream that had started. */
export async function bodyFailure(
  error: unknown,
  options: Pick<ModelCallOptions, 'secrets'>,
  assembler: Pick<TurnAssembler, 'partialOutput' | 'chunks' | 'delivered'>,
): Promise<Failure> {
  const secrets = options.secrets ?? [];
  const classes = await openaiErrorClasses();
  const { partialOutput } = assembler;
  const chunks = `${assembler.chunks} ${assembler.chunks === 1 ? 'chunk' : 'chunks'}`;
  const detail = redactSecrets(describeError(error), secrets);
  let reason: ModelOutputReason;
  let received: string;
  if (isTransportError(error, classes)) {
    reason = 'stream_cut';
    received = `a stream cut off after ${chunks}: ${detail}`;
  } else if (error instanceof SyntaxError && assembler.chunks > 0 && /server-sent event/.test(error.message)) {
    // openai 7 reports a stream that ends inside an event this way (openai 6 drops the half event): a cut.
    reason = 'stream_cut';
    received = `a stream cut off after ${chunks}: ${detail}`;
  } else if (error instanceof SyntaxError) {
    reason = 'malformed_response';
    received = `a chunk that does not parse after ${chunks}: ${detail}`;
  } else if (isStreamErrorEvent(error, classes)) {
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
function foreignFailure(error: unknown, options: Pick<ModelCallOptions, 'secrets'>, partialOutput: string | null): Failure {
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
