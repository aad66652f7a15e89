/**
 * Puts the streamed chunks of one chat completion together into a turn: text,
 * thinking, tool calls (also from servers that leave out `index`), usage and
 * finish reason, passing deltas on as they come.
 */
import type { ChatToolCall, Usage } from '../types.js';
import type { ChatChunk, ChatUsage } from './chat-client.js';
import { ToolCallParts } from './tool-call-parts.js';

/** A model turn: what a finished response said. */
export interface ModelTurn {
  content: string;
  toolCalls: ChatToolCall[];
  usage: Usage | null;
  /** `null` when the response sent none. */
  finishReason: string | null;
  /** The thinking the response carried, under the field name the server used; `null` when none. */
  reasoning: TurnReasoning | null;
  /** Fields of the assistant message beyond the standard ones (whole responses only), sent back with it. */
  extra?: Record<string, unknown>;
}

/** Thinking text, and the field it came in. */
export interface TurnReasoning {
  field: 'reasoning_content' | 'reasoning';
  text: string;
}

/** Usage in the shape the runtime counts. */
export const usageOf = (usage: ChatUsage): Usage => ({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });

/** Where the deltas of a streamed turn go. */
export interface TurnListeners {
  onTextDelta?: ((delta: string) => void) | undefined;
  onThinkingDelta?: ((delta: string) => void) | undefined;
  /** Called on every chunk. */
  onProgress?: (() => void) | undefined;
}

/**
 * The streamed chunks of one turn, put together.
 *
 * @example
 * ```ts
 * const assembler = new TurnAssembler({ onTextDelta: (delta) => process.stdout.write(delta) });
 * for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) assembler.add(chunk);
 * assembler.turn(); // { content, toolCalls, usage, finishReason }
 * ```
 */
export class TurnAssembler {
  /** The text so far. */
  content = '';
  /** Chunks received so far. */
  chunks = 0;
  /** Text or thinking reached the callbacks: the turn was shown, and cannot be retried. */
  delivered = false;
  #usage: Usage | null = null;
  #finishReason: string | null = null;
  #reasoning: TurnReasoning | null = null;
  readonly #calls = new ToolCallParts();
  readonly #options: TurnListeners;

  constructor(options: TurnListeners) {
    this.#options = options;
  }

  /** The text so far, or `null` when there is none. */
  get partialOutput(): string | null {
    return this.content || null;
  }

  /** Takes one chunk in, passing its deltas on. */
  add(chunk: ChatChunk): void {
    const options = this.#options;
    this.chunks += 1;
    options.onProgress?.();
    // Groq's 2024 stream shape carries the usage in `x_groq` instead.
    const usage = chunk.usage ?? chunk.x_groq?.usage;
    if (usage) this.#usage = usageOf(usage);
    const choice = chunk.choices[0];
    if (!choice) return;
    if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    // Typed as always present by some clients, yet some servers leave it out.
    const delta = choice.delta;
    if (!delta) return;
    if (delta.content) {
      this.content += delta.content;
      this.delivered = true;
      options.onTextDelta?.(delta.content);
    }
    // Some servers send both names, one of them empty: the one with text counts.
    const field = delta.reasoning_content ? 'reasoning_content' : 'reasoning';
    const reasoning = delta[field];
    if (typeof reasoning === 'string' && reasoning) {
      this.delivered = true;
      this.#reasoning = { field, text: (this.#reasoning?.text ?? '') + reasoning };
      options.onThinkingDelta?.(reasoning);
    }
    for (const part of delta.tool_calls ?? []) this.#calls.add(part);
  }

  /** The turn as received so far. */
  turn(): ModelTurn {
    return { content: this.content, toolCalls: this.#calls.calls(), usage: this.#usage, finishReason: this.#finishReason, reasoning: this.#reasoning };
  }
}
