/**
 * What real OpenAI-compatible servers send where they differ from OpenAI,
 * as fake-server replies: each fixture follows the chunk framing of the
 * source it cites, so a client can be tested against the shape without the
 * server. Streamed fixtures answer with SSE whatever the request asked.
 */
import type { RawReply } from './types.js';
import { SSE_DONE, sseEvent } from './wire.js';

/** A tool call of a fixture: `arguments` is serialised unless it is a string. */
export interface QuirkToolCall {
  name: string;
  arguments: string | object;
  /** @default `call_<position>` */
  id?: string;
}

/** Token counts a fixture reports. */
export interface QuirkUsage {
  promptTokens: number;
  completionTokens: number;
}

const IDENTITY = { id: 'chatcmpl-quirk', created: 1_700_000_000, model: 'quirk-model' } as const;
const DEFAULT_USAGE: QuirkUsage = { promptTokens: 10, completionTokens: 5 };

const text = (value: string | object): string => (typeof value === 'string' ? value : JSON.stringify(value));
const idOf = (call: QuirkToolCall, position: number): string => call.id ?? `call_${position}`;
const wireUsage = (usage: QuirkUsage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
});

/** One `chat.completion.chunk` event with a single choice. */
function chunk(delta: object, finishReason: string | null = null, extra: object = {}): string {
  return sseEvent(JSON.stringify({ ...IDENTITY, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra }));
}

/** Splits text into pieces of `size` characters (at least one piece). */
function pieces(value: string, size = 8): string[] {
  const result: string[] = [];
  for (let start = 0; start < value.length; start += size) result.push(value.slice(start, start + size));
  return result.length > 0 ? result : [''];
}

const stream = (events: string[], done = true): RawReply => ({ fault: 'raw', events: done ? [...events, SSE_DONE] : events });

/** A whole `chat.completion` with the given assistant message. */
function completion(message: object, finishReason: string, usage: QuirkUsage = DEFAULT_USAGE): RawReply {
  return {
    fault: 'raw',
    body: {
      ...IDENTITY,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
      usage: wireUsage(usage),
    },
  };
}

/**
 * Fixtures of real servers' response shapes, each citing where it is described.
 *
 * @example
 * ```ts
 * import { quirks, reply, startFakeServer } from 'subagents/testing';
 * const server = await startFakeServer({
 *   script: [quirks.repeatedToolName({ name: 'read_file', arguments: { path: 'a.md' } }), reply.text('Done.')],
 * });
 * ```
 */
export const quirks = {
  /**
   * NVIDIA NIM (MiniMax M2.7), Fireworks, Kimi: the whole function name (and
   * the id) repeated in every streamed part of one call, beside each piece
   * of the arguments. Source: NousResearch/hermes-agent#8259 (`read_fileread_file`).
   */
  repeatedToolName(call: QuirkToolCall): RawReply {
    const id = idOf(call, 0);
    const parts = pieces(text(call.arguments)).map((piece) =>
      chunk({ tool_calls: [{ index: 0, id, type: 'function', function: { name: call.name, arguments: piece } }] }),
    );
    return stream([chunk({ role: 'assistant', content: null }), ...parts, chunk({}, 'tool_calls')]);
  },

  /**
   * Ollama 0.20.x: parallel calls each whole in its own chunk, all at
   * `index: 0`, with distinct ids. Sources: ollama/ollama#15457, vercel/ai#14277.
   */
  parallelCallsAtIndexZero(calls: QuirkToolCall[]): RawReply {
    const parts = calls.map((call, position) =>
      chunk({ role: 'assistant', content: '', tool_calls: [{ index: 0, id: idOf(call, position), type: 'function', function: { name: call.name, arguments: text(call.arguments) } }] }),
    );
    return stream([...parts, chunk({ role: 'assistant', content: '' }, 'tool_calls')]);
  },

  /**
   * Gemini 3 on its OpenAI-compatible endpoint, streaming: a tool call whole
   * in one chunk, carrying `extra_content.google.thought_signature`, which
   * must come back on that call in the next request (else HTTP 400).
   * Source: ai.google.dev/gemini-api/docs/thought-signatures (OpenAI compatibility).
   */
  thoughtSignatureToolCall(call: QuirkToolCall, signature: string): RawReply {
    const part = {
      extra_content: { google: { thought_signature: signature } },
      function: { arguments: text(call.arguments), name: call.name },
      id: idOf(call, 0),
      type: 'function',
    };
    return stream([chunk({ role: 'assistant', tool_calls: [part] }), chunk({ role: 'assistant' }, 'tool_calls')]);
  },

  /**
   * DeepSeek thinking mode with tools, streaming: `reasoning_content` deltas,
   * then the tool call. The assistant message that carries the call must send
   * the `reasoning_content` back (else HTTP 400).
   * Source: api-docs.deepseek.com/guides/thinking_mode (tool calls).
   */
  thinkingToolCall(reasoning: string, call: QuirkToolCall): RawReply {
    const thinking = pieces(reasoning).map((piece) => chunk({ content: null, reasoning_content: piece }));
    const id = idOf(call, 0);
    return stream([
      chunk({ role: 'assistant', content: null, reasoning_content: '' }),
      ...thinking,
      chunk({ tool_calls: [{ index: 0, id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ...pieces(text(call.arguments)).map((piece) => chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
      chunk({}, 'tool_calls'),
    ]);
  },

  /**
   * vLLM, DeepSeek, Ollama, OpenRouter, not streaming: the thinking in
   * `message.reasoning_content` (vLLM, DeepSeek) or `message.reasoning`
   * (Ollama, OpenRouter, newer vLLM), with the answer or tool calls.
   * Source: docs.vllm.ai/en/latest/features/reasoning_outputs.html.
   */
  reasoningMessage(options: { reasoning: string; field?: 'reasoning_content' | 'reasoning'; content?: string; toolCalls?: QuirkToolCall[] }): RawReply {
    const calls = options.toolCalls ?? [];
    const message: Record<string, unknown> = { content: options.content ?? (calls.length > 0 ? null : ''), [options.field ?? 'reasoning_content']: options.reasoning };
    if (calls.length > 0) {
      message.tool_calls = calls.map((call, position) => ({ id: idOf(call, position), type: 'function', function: { name: call.name, arguments: text(call.arguments) } }));
    }
    return completion(message, calls.length > 0 ? 'tool_calls' : 'stop');
  },

  /**
   * Mistral, not streaming: `tool_calls` with `function` and `index` but no
   * `type`. Source: agentjido/req_llm#373.
   */
  untypedToolCall(call: QuirkToolCall): RawReply {
    return completion({ content: '', tool_calls: [{ id: idOf(call, 0), function: { name: call.name, arguments: text(call.arguments) }, index: 0 }] }, 'tool_calls');
  },

  /**
   * Mistral's answer to a request carrying `stream_options`: HTTP 422
   * `extra_forbidden`, a body with no `error` field (so the `openai` client
   * reports "422 status code (no body)"). Sources: dnakov/anon-kode#53
   * (the body, verbatim), TabbyML/tabby#4082.
   */
  streamOptionsForbidden(): RawReply {
    return {
      fault: 'raw',
      status: 422,
      body: {
        object: 'error',
        message: {
          detail: [
            {
              type: 'extra_forbidden',
              loc: ['body', 'stream_options', 'include_usage'],
              msg: 'Extra inputs are not permitted',
              input: true,
              url: 'https://errors.pydantic.dev/2.10/v/extra_forbidden',
            },
          ],
        },
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    };
  },

  /**
   * Groq's 2024 stream shape: no top-level `usage`; the last chunk carries
   * it in `x_groq.usage`. Source: vercel/ai#1651.
   */
  groqUsage(content: string, usage: QuirkUsage = DEFAULT_USAGE): RawReply {
    const xGroq = { id: 'req_quirk', usage: { queue_time: 0.01, ...wireUsage(usage), prompt_time: 0.002, completion_time: 0.01, total_time: 0.012 } };
    return stream([
      chunk({ role: 'assistant', content: '' }, null, { x_groq: { id: 'req_quirk' } }),
      ...pieces(content).map((piece) => chunk({ content: piece })),
      chunk({}, 'stop', { x_groq: xGroq }),
    ]);
  },

  /**
   * llama.cpp's server (older builds), not streaming: `function.arguments`
   * as a JSON object rather than a string. Source: ggml-org/llama.cpp#20198.
   */
  objectArguments(call: QuirkToolCall & { arguments: object }): RawReply {
    return completion({ content: null, tool_calls: [{ id: idOf(call, 0), type: 'function', function: { name: call.name, arguments: call.arguments } }] }, 'tool_calls');
  },

  /**
   * OpenRouter: `: OPENROUTER PROCESSING` SSE comments before and between
   * chunks. Source: openrouter.ai/docs/api-reference/streaming.
   */
  processingComments(content: string): RawReply {
    const comment = ': OPENROUTER PROCESSING\n\n';
    const parts = pieces(content).flatMap((piece) => [chunk({ content: piece }), comment]);
    return stream([comment, comment, chunk({ role: 'assistant', content: '' }), ...parts, chunk({}, 'stop')]);
  },

  /**
   * OpenRouter: an HTTP 200 stream that ends in a data event with `error`
   * (and `finish_reason: "error"`) once the upstream provider fails
   * mid-stream. Source: openrouter.ai/docs/api-reference/streaming (errors during streaming).
   */
  midStreamError(partial: string, message = 'Provider disconnected unexpectedly'): RawReply {
    return stream(
      [
        chunk({ role: 'assistant', content: '' }),
        ...pieces(partial).map((piece) => chunk({ content: piece })),
        chunk({ content: '' }, 'error', { provider: 'quirk-provider', error: { code: 'server_error', message } }),
      ],
      false,
    );
  },

  /**
   * Azure OpenAI: a first chunk with `choices: []` and only the prompt's
   * content-filter results, then chunks whose choices carry their own.
   * Source: learn.microsoft.com/azure/ai-services/openai/concepts/content-filter (streaming).
   */
  filterResultsFirst(content: string): RawReply {
    const safe = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } };
    const first = sseEvent(JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: safe }] }));
    const filtered = (delta: object, reason: string | null = null) =>
      sseEvent(JSON.stringify({ ...IDENTITY, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: reason, content_filter_results: safe }] }));
    return stream([first, filtered({ role: 'assistant', content: '' }), ...pieces(content).map((piece) => filtered({ content: piece })), filtered({}, 'stop')]);
  },

  /**
   * Ollama < 0.4.7, Gemini 2.5 (OpenAI endpoint): streamed tool calls with
   * no `index`, each whole in one part. Source: ollama/ollama#7881.
   */
  toolCallsWithoutIndex(calls: QuirkToolCall[]): RawReply {
    const parts = calls.map((call, position) => chunk({ tool_calls: [{ id: idOf(call, position), type: 'function', function: { name: call.name, arguments: text(call.arguments) } }] }));
    return stream([chunk({ role: 'assistant', content: null }), ...parts, chunk({}, 'tool_calls')]);
  },

  /**
   * LiteLLM: streamed tool calls numbered from `index: 1` (the text took
   * index 0), arguments in pieces. Source: BerriAI/litellm#5025.
   */
  toolCallsFromIndexOne(calls: QuirkToolCall[]): RawReply {
    const parts = calls.flatMap((call, position) => [
      chunk({ tool_calls: [{ index: position + 1, id: idOf(call, position), type: 'function', function: { name: call.name, arguments: '' } }] }),
      ...pieces(text(call.arguments)).map((piece) => chunk({ tool_calls: [{ index: position + 1, function: { arguments: piece } }] })),
    ]);
    return stream([chunk({ role: 'assistant', content: null }), ...parts, chunk({}, 'tool_calls')]);
  },
} as const;
