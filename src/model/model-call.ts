/**
 * One model call, done right: one request at a time, each with its own abort
 * controller tied to the run's signal; retries of 429, 5xx and connection
 * failures made here, with waits the signal cancels; and a turn that counts
 * as finished only when the response says it is (a `finish_reason` of `stop`
 * or `tool_calls`). Whatever comes instead throws, with the text streamed so
 * far attached as partial output and every secret redacted from the message.
 *
 * The parts: the request (`model-request.ts`), the two readers
 * (`turn-readers.ts`), the finish-reason rules (`finish-reason.ts`) and what a
 * failed attempt comes to (`model-failure.ts`); this file holds the retries.
 */
import { BadArgumentError } from '../errors.js';
import { MAX_RETRY_AFTER_MS, abortWith } from './model-failure.js';
import type { Failure } from './model-failure.js';
import type { ModelCallOptions } from './model-request.js';
import { openaiErrorClasses, sleep } from './request-failure.js';
import { completeTurn, streamTurn } from './turn-readers.js';
import type { ModelTurn } from './turn-assembler.js';

export { redactSecrets } from '../secrets.js';
export { partialOutputOf } from './model-failure.js';
export type { ChatClient } from './chat-client.js';
export type { ModelCallOptions } from './model-request.js';
export type { ModelTurn } from './turn-assembler.js';
export { ProviderState } from './provider-state.js';

const DEFAULT_MAX_RETRIES = 2;
const DEFAULT_RETRY_BASE_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/**
 * Makes one model call and returns the finished turn. Throws the signal's
 * reason once it fires (never a fragment passed off as an answer); a
 * `ModelOutputError` for a response that is cut, truncated, filtered or
 * unreadable; a `ModelRequestError` for an error status or a failed
 * connection once the retries are spent. Read the text streamed before a
 * failure with `partialOutputOf`.
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
  // Loaded while the request is under way, so that reading a failure (an interrupt's too) waits for no import.
  void openaiErrorClasses();
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
    const delayMs = retryDelay(outcome, attempt - 1, baseDelayMs);
    options.onRetry?.({ attempt, delayMs, reason: outcome.error.message });
    await sleep(delayMs, signal).catch(() => abortWith(signal, null));
  }
}

/** The server's `Retry-After` when it gave one, else a backoff that doubles per retry (capped, with jitter). */
function retryDelay(failure: Failure, retryIndex: number, baseDelayMs: number): number {
  return failure.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** retryIndex) * (1 - Math.random() * 0.25);
}

/** One HTTP request: its own controller, so the run's signal holds one listener at most and drops it after. */
async function attemptOnce(options: ModelCallOptions, attempt: number): Promise<ModelTurn | Failure> {
  const { signal, provider } = options;
  if (!provider) return attemptWithSlot(options, attempt);
  // A slot of the provider's request limit, held until the response is read to its end. A provider the server
  // asked to wait is left alone until then, checked again once the slot is ours: a 429 may have come meanwhile.
  let release = provider.tryAcquire();
  while (release === null) {
    for (let left = provider.pauseLeftMs; left > 0; left = provider.pauseLeftMs) await sleep(left, signal).catch(() => abortWith(signal, null));
    release = await provider.acquire(signal).catch(() => abortWith(signal, null));
    if (provider.pauseLeftMs > 0) {
      release();
      release = null;
    }
  }
  try {
    const outcome = await attemptWithSlot(options, attempt);
    // A `Retry-After` holds back every call to the provider, not this one only: set before the slot passes on.
    if ('failed' in outcome && outcome.retryAfterMs !== null) provider.pauseFor(Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS));
    return outcome;
  } finally {
    release();
  }
}

async function attemptWithSlot(options: ModelCallOptions, attempt: number): Promise<ModelTurn | Failure> {
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
