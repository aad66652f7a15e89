/**
 * Builders that make scripts read like the conversation they fake.
 */
import type {
  CutFault,
  CutMidChunkFault,
  HangFault,
  MalformedFault,
  MessageReply,
  ResetFault,
  ScriptedToolCall,
  SlowLorisFault,
  StatusFault,
} from './types.js';

/** Timing, usage and finish options shared by the message builders. */
export type MessageReplyOptions = Pick<MessageReply, 'usage' | 'latencyMs' | 'chunkDelayMs' | 'chunkSize' | 'finishReason'>;

/** Options of {@link reply.status}. */
export interface StatusReplyOptions extends Omit<StatusFault, 'fault' | 'status'> {
  /** Seconds sent as the `Retry-After` header (`headers` may still override it). */
  retryAfter?: number;
}

/** Options of {@link reply.toolCall} and {@link reply.toolCalls}. */
export interface ToolCallReplyOptions extends MessageReplyOptions {
  /** Text sent beside the tool calls. */
  content?: string;
}

/**
 * Builders for every kind of `Reply`.
 *
 * @example
 * ```ts
 * const server = await startFakeServer({
 *   script: [
 *     reply.toolCall('delegate_task', { goal: 'Summarise the report' }),
 *     reply.status(429, { retryAfter: 1 }),
 *     reply.reset(2),
 *     reply.text('The summary is ready.', { chunkDelayMs: 5 }),
 *     reply.text('The summary is', { finishReason: 'length' }),
 *   ],
 * });
 * ```
 */
export const reply = {
  /** An assistant message with text only. */
  text(content: string, options: MessageReplyOptions = {}): MessageReply {
    return { ...options, content };
  },

  /** An assistant message with one tool call; `args` is JSON text or a value to serialise. */
  toolCall(
    name: string,
    args: string | object = {},
    options: ToolCallReplyOptions & { id?: string } = {},
  ): MessageReply {
    const { id, ...rest } = options;
    const call: ScriptedToolCall = id === undefined ? { name, arguments: args } : { name, arguments: args, id };
    return { ...rest, toolCalls: [call] };
  },

  /** An assistant message with several tool calls, in order. */
  toolCalls(calls: ScriptedToolCall[], options: ToolCallReplyOptions = {}): MessageReply {
    return { ...options, toolCalls: calls };
  },

  /**
   * An HTTP error status with an OpenAI-style JSON error body (or `body`);
   * `retryAfter` adds a `Retry-After` header, in seconds.
   */
  status(status: number, options: StatusReplyOptions = {}): StatusFault {
    const { retryAfter, headers, ...rest } = options;
    const allHeaders: Record<string, string> = { ...headers };
    if (retryAfter !== undefined) allHeaders['retry-after'] ??= String(retryAfter);
    return { ...rest, ...(Object.keys(allHeaders).length > 0 ? { headers: allHeaders } : {}), fault: 'status', status };
  },

  /** A stream whose connection is destroyed after `afterChunks` SSE events. */
  cut(afterChunks: number, options: Omit<CutFault, 'fault' | 'afterChunks'> = {}): CutFault {
    return { ...options, fault: 'cut', afterChunks };
  },

  /** A stream whose connection is reset (TCP RST) after `afterChunks` SSE events. */
  reset(afterChunks: number, options: Omit<ResetFault, 'fault' | 'afterChunks'> = {}): ResetFault {
    return { ...options, fault: 'reset', afterChunks };
  },

  /** A stream that stops half-way through the SSE event after `afterChunks` whole ones. */
  cutMidChunk(afterChunks: number, options: Omit<CutMidChunkFault, 'fault' | 'afterChunks'> = {}): CutMidChunkFault {
    return { ...options, fault: 'cutMidChunk', afterChunks };
  },

  /** A response that keeps trickling bytes (SSE comments, or whitespace) and never finishes. */
  slowLoris(options: Omit<SlowLorisFault, 'fault'> = {}): SlowLorisFault {
    return { ...options, fault: 'slowLoris' };
  },

  /** Status 200 with a body that does not parse. */
  malformed(options: Omit<MalformedFault, 'fault'> = {}): MalformedFault {
    return { ...options, fault: 'malformed' };
  },

  /** No answer until the client aborts or the server closes. */
  hang(): HangFault {
    return { fault: 'hang' };
  },
} as const;
