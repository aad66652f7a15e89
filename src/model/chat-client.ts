/**
 * The part of a chat-completions client the model loop uses, written as plain
 * structural types: an `openai` client fits it as it is, and so does anything
 * else that speaks the same JSON, without this library's public types naming
 * the `openai` package.
 */
import type { OpenAIFunctionTool } from '../toolkit/define-tool.js';
import type { ChatMessage } from '../types.js';

/** The body of one chat-completions request as the loop sends it (extra fields from `requestOptions` ride along). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: OpenAIFunctionTool[];
}

/** Per-request options: the attempt's own signal, and the client's retries off (the loop retries itself). */
export interface ChatRequestOptions {
  signal: AbortSignal;
  maxRetries: number;
}

/** Token counts as the server reports them. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * A tool call in a response. `function` calls are run (a call with a
 * `function` and no `type` is one, as Mistral sends them); calls of other
 * types are left out. Some servers send `arguments` as a JSON object.
 */
export interface ChatResponseToolCall {
  id: string;
  type?: string;
  function?: { name: string; arguments: string | object };
}

/** Thinking text, under the name a server gives it (`reasoning_content`: DeepSeek, vLLM; `reasoning`: OpenRouter, Ollama). */
export interface ChatReasoningFields {
  reasoning_content?: string | null;
  reasoning?: string | null;
}

/** A whole (not streamed) response: what the loop reads of it. */
export interface ChatResponse {
  choices: Array<{
    message: { content?: string | null; tool_calls?: ChatResponseToolCall[] | null } & ChatReasoningFields;
    /** Typed as always present by some clients, yet some servers leave it out. */
    finish_reason?: string | null;
  }>;
  usage?: ChatUsage | null;
}

/**
 * A tool call's part in a streamed chunk. Servers differ: some leave out
 * `index` or start it at 1, some repeat the name in every part, some put
 * parallel calls all at index 0 with distinct ids, some send `arguments` as
 * an object, some add fields of their own (kept on the call).
 */
export interface ChatChunkToolCall {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string | object };
}

/** One streamed chunk: what the loop reads of it. */
export interface ChatChunk {
  choices: Array<{
    delta?: ({ content?: string | null; tool_calls?: ChatChunkToolCall[] } & ChatReasoningFields) | null;
    finish_reason?: string | null;
  }>;
  usage?: ChatUsage | null;
  /** Groq's 2024 stream shape: the usage is here, on the last chunk. */
  x_groq?: { usage?: ChatUsage | null } | null;
}

/**
 * The part of a chat-completions client a model call uses: an `OpenAI`
 * client (any OpenAI-compatible base URL) is one.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai';
 * const client: ChatClient = new OpenAI({ baseURL: 'http://localhost:11434/v1', apiKey: 'ollama' });
 * ```
 */
export interface ChatClient {
  chat: {
    completions: {
      create(body: ChatRequest & { stream: false }, options: ChatRequestOptions): PromiseLike<ChatResponse>;
      create(
        body: ChatRequest & { stream: true; stream_options?: { include_usage: boolean } },
        options: ChatRequestOptions,
      ): PromiseLike<AsyncIterable<ChatChunk>>;
    };
  };
}
