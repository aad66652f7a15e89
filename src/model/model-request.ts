/**
 * What one model call is asked to do, and the request body it sends: the
 * caller's extra fields first, so the model, the messages and the tools
 * always win over them.
 */
import type { OpenAIFunctionTool } from '../toolkit/define-tool.js';
import type { ChatMessage } from '../types.js';
import type { ChatClient, ChatRequest } from './chat-client.js';
import type { ProviderState } from './provider-state.js';

/** Options of `callModel`. */
export interface ModelCallOptions {
  client: ChatClient;
  model: string;
  messages: readonly ChatMessage[];
  tools: OpenAIFunctionTool[];
  /** The run's signal; may fire at any time, and then the call throws its reason. */
  signal: AbortSignal;
  /** Stream the response (text deltas reach `onTextDelta` as they come). */
  stream: boolean;
  /** Extra request fields (temperature, …), merged into the request body. */
  requestOptions?: Record<string, unknown> | undefined;
  /**
   * The most tokens the answer may have (what the budget has left): sent as
   * `max_completion_tokens`, or as `max_tokens` when `requestOptions` uses
   * that name, never above the caller's own value. @default none
   */
  maxOutputTokens?: number | null | undefined;
  /** Retries of 408, 409, 429, 5xx and connection failures made by this call itself. @default 2 */
  maxRetries?: number;
  /** First backoff wait when the server gives no `Retry-After`; it doubles per retry, up to 8 s. @default 500 */
  retryBaseDelayMs?: number;
  /** Accept a response without finish_reason (some servers never send one). @default false */
  allowMissingFinishReason?: boolean;
  /** The provider's shared state: its request limit, and what the runtime learnt about its server. @default none */
  provider?: ProviderState | undefined;
  /** Secrets (API keys) to redact from any error text this call produces or passes on. @default [] */
  secrets?: readonly string[];
  onTextDelta?: (delta: string) => void;
  onThinkingDelta?: (delta: string) => void;
  /** Called on every chunk, response and retry wait: feeds stale detection. */
  onProgress?: () => void;
  /** Told before each retry's wait: which attempt failed, how long the wait is, and why. */
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
}

/** The request body, without `stream` and `stream_options` (each reader sets its own). */
export function requestBody(options: ModelCallOptions): ChatRequest {
  const { stream_options: _streamOptions, ...requestOptions } = options.requestOptions ?? {};
  return {
    ...requestOptions,
    model: options.model,
    messages: options.messages as ChatMessage[],
    ...(options.tools.length > 0 ? { tools: options.tools } : {}),
    ...outputCap(options),
  };
}

/** The request field that caps the answer at what the budget has left. */
function outputCap(options: ModelCallOptions): Record<string, number> {
  const cap = options.maxOutputTokens;
  if (cap === null || cap === undefined) return {};
  const field = options.requestOptions && Object.hasOwn(options.requestOptions, 'max_tokens') ? 'max_tokens' : 'max_completion_tokens';
  const own = options.requestOptions?.[field];
  return { [field]: typeof own === 'number' ? Math.min(own, cap) : cap };
}

/**
 * The `stream_options` of a streamed request: the caller's own when
 * `requestOptions` names it (`null` sends none), none once the provider
 * refused it, else `{ include_usage: true }`.
 */
export function streamOptionsOf(options: ModelCallOptions): { stream_options?: { include_usage: boolean } } {
  const requestOptions = options.requestOptions ?? {};
  if (Object.hasOwn(requestOptions, 'stream_options')) {
    const given = requestOptions.stream_options as { include_usage: boolean } | null | undefined;
    return given === null || given === undefined ? {} : { stream_options: given };
  }
  return options.provider?.streamOptionsRefused === true ? {} : { stream_options: { include_usage: true } };
}
