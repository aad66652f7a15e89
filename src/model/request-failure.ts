/**
 * What a failed HTTP request says, read without trusting its shape: its
 * status and headers, the wait its `Retry-After` asks for, whether its
 * connection dropped; a description of it with its causes; and whether any of
 * its text names a secret. Plus the one wait the retries use, which a signal
 * cancels. The one module that knows the `openai` client's error classes,
 * which it loads on the first failure it reads: importing the package does
 * not load `openai`.
 */
import type { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { redactSecrets } from '../secrets.js';

/** The `openai` client's error classes this module tells apart. */
export interface OpenaiErrorClasses {
  APIConnectionError: typeof APIConnectionError;
  APIError: typeof APIError;
  APIUserAbortError: typeof APIUserAbortError;
}

let errorClasses: Promise<OpenaiErrorClasses | null> | undefined;

/**
 * The `openai` client's error classes, imported once on first use, or `null`
 * when `openai` cannot be imported (a client of another make throws none of them).
 */
export function openaiErrorClasses(): Promise<OpenaiErrorClasses | null> {
  errorClasses ??= import('openai').then(
    ({ APIConnectionError, APIError, APIUserAbortError }) => ({ APIConnectionError, APIError, APIUserAbortError }),
    () => null,
  );
  return errorClasses;
}

/** Error codes of a connection that failed or dropped (Node's and undici's). */
const TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Waits `ms`; the signal ends the wait at once (rejecting with its reason) and leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The HTTP status an error carries (the `openai` client's `APIError` does), or `null`. */
export function statusOf(error: unknown): number | null {
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' && Number.isInteger(status) ? status : null;
}

/** Response headers as the `openai` client's errors hold them (a `Headers`). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** The response headers an error carries, or `null`. */
export function headersOf(error: unknown): HeaderReader | null {
  if (typeof error !== 'object' || error === null) return null;
  const headers = (error as { headers?: unknown }).headers;
  return typeof headers === 'object' && headers !== null && typeof (headers as HeaderReader).get === 'function'
    ? (headers as HeaderReader)
    : null;
}

/** 408, 409, 429 and 5xx pass; the server's `x-should-retry` overrides. */
export function isRetryableStatus(status: number, headers: HeaderReader | null): boolean {
  const override = headers?.get('x-should-retry');
  if (override === 'true') return true;
  if (override === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait the server asks for, from `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function retryAfterOf(headers: HeaderReader | null): number | null {
  const millisecondsText = headers?.get('retry-after-ms')?.trim();
  const milliseconds = millisecondsText ? Number(millisecondsText) : Number.NaN;
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * A 400 or 422 that may be the server refusing `stream_options`: its message
 * or body names the field, or it has no body the client could read (Mistral's
 * error body has no `error` field, which the `openai` client drops).
 */
export function refusesStreamOptions(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== 400 && status !== 422) return false;
  const body = typeof error === 'object' && error !== null ? (error as { error?: unknown }).error : undefined;
  if (body === undefined || body === null) return true;
  return textOf(error).includes('stream_options') || (JSON.stringify(body) ?? '').includes('stream_options');
}

/** The client could not connect, or lost the connection before a response came (the `openai` client's `APIConnectionError`). */
export function isConnectionError(error: unknown, classes: OpenaiErrorClasses | null): boolean {
  return classes !== null && error instanceof classes.APIConnectionError;
}

/** An `error` event inside a stream: the server reports its own failure (an API error with no status, not an abort). */
export function isStreamErrorEvent(error: unknown, classes: OpenaiErrorClasses | null): boolean {
  return classes !== null && error instanceof classes.APIError && !(error instanceof classes.APIUserAbortError) && statusOf(error) === null;
}

/** The connection failed or dropped: the client's connection error, or a socket error code anywhere in the causes. */
export function isTransportError(error: unknown, classes: OpenaiErrorClasses | null): boolean {
  if (isConnectionError(error, classes)) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  // undici's words for a body or a request whose connection went away.
  return error instanceof TypeError && (error.message === 'terminated' || error.message === 'fetch failed');
}

/** The message with its causes, for example `terminated (other side closed, UND_ERR_SOCKET)`. */
export function describeError(error: unknown): string {
  const head = textOf(error);
  const causes: string[] = [];
  let current: unknown = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth += 1) {
    const message = textOf(current);
    const code = (current as { code?: unknown }).code;
    causes.push(typeof code === 'string' && !message.includes(code) ? `${message}, ${code}` : message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return causes.length > 0 ? `${head} (${causes.join('; ')})` : head;
}

/** The original error as `cause`, unless any of its text names a secret. */
export function causeOf(error: unknown, secrets: readonly string[]): ErrorOptions | undefined {
  return mentionsSecret(error, secrets) ? undefined : { cause: error };
}

/** Any text of the error or its causes (messages, API error bodies) holds a secret or something shaped like a key. */
export function mentionsSecret(error: unknown, secrets: readonly string[]): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const texts = [textOf(current)];
    // An API error keeps the response body, where an endpoint may echo the key.
    const body = (current as { error?: unknown }).error;
    if (body !== undefined) texts.push(JSON.stringify(body) ?? '');
    if (texts.some((text) => redactSecrets(text, secrets) !== text)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** The message of an error, or the text of any other thrown value. */
export function textOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}
