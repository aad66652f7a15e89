/**
 * Builders that make scripts read like the conversation they fake.
 */
import type {
  CutFault,
  HangFault,
  MalformedFault,
  MessageReply,
  ScriptedToolCall,
  StatusFault,
} from './types.js';

/** Timing and usage options shared by the message builders. */
export type MessageReplyOptions = Pick<MessageReply, 'usage' | 'latencyMs' | 'chunkDelayMs' | 'chunkSize'>;

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
 *     reply.status(429),
 *     reply.text('The summary is ready.', { chunkDelayMs: 5 }),
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

  /** An HTTP error status with an OpenAI-style JSON error body (or `body`). */
  status(status: number, options: Omit<StatusFault, 'fault' | 'status'> = {}): StatusFault {
    return { ...options, fault: 'status', status };
  },

  /** A stream whose connection is destroyed after `afterChunks` SSE events. */
  cut(afterChunks: number, options: Omit<CutFault, 'fault' | 'afterChunks'> = {}): CutFault {
    return { ...options, fault: 'cut', afterChunks };
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
