/**
 * Puts the streamed chunks of one chat completion together into a turn: text,
 * thinking, tool calls (also from servers that leave out `index`), usage and
 * finish reason, passing deltas on as they come.
 */
import type { ChatToolCall, Usage } from '../types.js';
import type { ChatChunk } from './chat-client.js';

/** A model turn: what a finished response said. */
export interface ModelTurn {
  content: string;
  toolCalls: ChatToolCall[];
  usage: Usage | null;
  /** `null` when the response sent none. */
  finishReason: string | null;
}

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
  readonly #calls: Array<{ id: string; name: string; arguments: string }> = [];
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
    if (chunk.usage) this.#usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
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
    const extra = delta as { reasoning_content?: unknown; reasoning?: unknown };
    const reasoning = extra.reasoning_content ?? extra.reasoning;
    if (typeof reasoning === 'string' && reasoning) {
      this.delivered = true;
      options.onThinkingDelta?.(reasoning);
    }
    for (const part of delta.tool_calls ?? []) {
      // Some OpenAI-compatible servers leave out `index`: place the part by its id, else with the last call.
      const index = typeof part.index === 'number' ? part.index : this.#indexWithoutPosition(part.id);
      const call = (this.#calls[index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
    }
  }

  /** The turn as received so far. */
  turn(): ModelTurn {
    const toolCalls = this.#calls
      .filter((call) => call !== undefined)
      .map(
        (call, index): ChatToolCall => ({
          id: call.id || `call_${index}`,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        }),
      );
    return { content: this.content, toolCalls, usage: this.#usage, finishReason: this.#finishReason };
  }

  #indexWithoutPosition(id: string | undefined): number {
    if (id) {
      const known = this.#calls.findIndex((call) => call?.id === id);
      return known === -1 ? this.#calls.length : known;
    }
    return Math.max(this.#calls.length - 1, 0);
  }
}
