/**
 * The JSON an OpenAI-compatible server sends for chat completions: whole
 * responses, SSE chunk events, error bodies. Pure functions of the reply, shaped
 * after the `openai` package's `ChatCompletion` and `ChatCompletionChunk` types.
 */
import { messageText } from './messages.js';
import type { ChatRequestBody, MessageReply, ScriptedUsage } from './types.js';

/** The fields every chunk of one completion shares. */
export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

/** A tool call with its id and arguments text settled. */
export interface WireToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A message reply reduced to what goes on the wire. */
export interface WireMessage {
  content: string | null;
  toolCalls: WireToolCall[];
  usage: ScriptedUsage;
  /** `null`: no finish_reason is sent. */
  finishReason: string | null;
}

const DEFAULT_CHUNK_SIZE = 16;
const CHARACTERS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;

export function completionIdentity(body: ChatRequestBody, index: number): CompletionIdentity {
  return {
    id: `chatcmpl-fake-${index}`,
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'fake-model',
  };
}

export function toWireMessage(reply: MessageReply, body: ChatRequestBody, index: number): WireMessage {
  const toolCalls: WireToolCall[] = (reply.toolCalls ?? []).map((call, position) => ({
    id: call.id ?? `call_${index}_${position}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const content = reply.content ?? (toolCalls.length > 0 ? null : '');
  const finishReason = reply.finishReason === undefined ? (toolCalls.length > 0 ? 'tool_calls' : 'stop') : reply.finishReason;
  return { content, toolCalls, usage: reply.usage ?? estimateUsage(body, content, toolCalls), finishReason };
}

/** A deterministic token estimate: about 4 characters per token, plus 4 per prompt message. */
export function estimateUsage(body: ChatRequestBody, content: string | null, toolCalls: WireToolCall[]): ScriptedUsage {
  let promptTokens = 0;
  for (const message of body.messages) {
    promptTokens += TOKENS_PER_MESSAGE + Math.ceil(messageText(message).length / CHARACTERS_PER_TOKEN);
  }
  let completionCharacters = content?.length ?? 0;
  for (const call of toolCalls) completionCharacters += call.name.length + call.arguments.length;
  return { promptTokens, completionTokens: Math.max(1, Math.ceil(completionCharacters / CHARACTERS_PER_TOKEN)) };
}

function wireUsage(usage: ScriptedUsage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** The JSON text of a non-streaming `chat.completion`. */
export function completionJson(identity: CompletionIdentity, message: WireMessage): string {
  const assistant: Record<string, unknown> = { role: 'assistant', content: message.content, refusal: null };
  if (message.toolCalls.length > 0) {
    assistant.tool_calls = message.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return JSON.stringify({
    ...identity,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: assistant,
        ...(message.finishReason === null ? {} : { finish_reason: message.finishReason }),
        logprobs: null,
      },
    ],
    usage: wireUsage(message.usage),
  });
}

/** Splits text into pieces of about `size` characters, never inside a surrogate pair. */
export function splitText(text: string, size = DEFAULT_CHUNK_SIZE): string[] {
  const step = Math.max(1, Math.floor(size));
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + step, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end += 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** One SSE event carrying a chunk. */
export function sseEvent(data: string): string {
  return `data: ${data}\n\n`;
}

/** The SSE event that ends every stream. */
export const SSE_DONE = 'data: [DONE]\n\n';

/**
 * Every SSE event of a streamed completion: the role, content deltas, per tool
 * call its id and name then argument fragments, the finish reason (unless it
 * is `null`), the usage chunk when `includeUsage`, and `[DONE]`.
 */
export function streamEvents(
  identity: CompletionIdentity,
  message: WireMessage,
  options: { includeUsage: boolean; chunkSize?: number | undefined },
): string[] {
  const prefix = JSON.stringify({ ...identity, object: 'chat.completion.chunk' }).slice(0, -1);
  // With include_usage every chunk carries `usage: null` except the last one.
  const suffix = options.includeUsage ? ',"usage":null}' : '}';
  const chunk = (delta: unknown, reason: string | null = null) =>
    sseEvent(
      `${prefix},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${JSON.stringify(reason)},"logprobs":null}]${suffix}`,
    );

  const events = [chunk(message.content === null ? { role: 'assistant' } : { role: 'assistant', content: '' })];
  for (const piece of splitText(message.content ?? '', options.chunkSize)) events.push(chunk({ content: piece }));
  message.toolCalls.forEach((call, index) => {
    events.push(
      chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
    );
    for (const piece of splitText(call.arguments, options.chunkSize)) {
      events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  if (message.finishReason !== null) events.push(chunk({}, message.finishReason));
  if (options.includeUsage) events.push(sseEvent(`${prefix},"choices":[],"usage":${JSON.stringify(wireUsage(message.usage))}}`));
  events.push(SSE_DONE);
  return events;
}

/** The JSON text of an OpenAI-style error body. */
export function errorJson(message: string, type: string, code: string | null = null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

/** The error `type` an OpenAI-compatible API uses for a status. */
export function errorType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
