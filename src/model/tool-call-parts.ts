/**
 * Puts streamed tool-call parts together into calls, settling what servers do
 * differently (see `ChatChunkToolCall`):
 * - a part without `index` goes to the call with its id, else to the last call;
 * - a name part is appended unless the name so far already equals it (NVIDIA
 *   NIM, Fireworks and Kimi repeat the whole name in every part);
 * - a part at a used index opens a new call when it carries a name and either
 *   a non-empty id other than the call's, or the call's arguments are already
 *   a whole JSON value (Ollama 0.20 sends parallel calls all at index 0);
 * - `arguments` sent as an object are those arguments;
 * - fields other than the standard ones (Gemini's `extra_content`) are kept.
 */
import type { ChatToolCall } from '../types.js';
import type { ChatChunkToolCall } from './chat-client.js';

const STANDARD_FIELDS: ReadonlySet<string> = new Set(['index', 'id', 'type', 'function']);

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
  extra: Record<string, unknown>;
}

/** The arguments text of a call: a string as it is, an object as JSON. */
export function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

/** The fields of a tool call (or a part of one) beyond the standard ones. */
export function extraFields(call: object): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(call)) if (!STANDARD_FIELDS.has(field) && value !== undefined) extra[field] = value;
  return extra;
}

function isWholeJson(text: string): boolean {
  if (text.trim() === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The tool calls of one streamed turn, part by part. */
export class ToolCallParts {
  /** In the order they opened. */
  readonly #calls: PartialCall[] = [];
  /** The call each server index points to now (a new call opened at a used index takes it over). */
  readonly #byIndex = new Map<number, PartialCall>();

  add(part: ChatChunkToolCall): void {
    const name = part.function?.name ?? '';
    const id = part.id ?? '';
    const piece = argumentsText(part.function?.arguments);
    const hasIndex = typeof part.index === 'number';
    let call = hasIndex ? this.#byIndex.get(part.index!) : this.#withoutIndex(id);
    if (call && name && opensNewCall(call, id, piece)) call = undefined;
    if (!call) {
      call = { id: '', name: '', arguments: '', extra: {} };
      this.#calls.push(call);
    }
    if (hasIndex) this.#byIndex.set(part.index!, call);
    if (id) call.id = id;
    if (name && call.name !== name) call.name += name;
    call.arguments += piece;
    Object.assign(call.extra, extraFields(part));
  }

  /** The calls so far, in order, each with an id (made up when the server sent none). */
  calls(): ChatToolCall[] {
    return this.#calls.map((call, index) => ({
      ...call.extra,
      id: call.id || `call_${index}`,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }

  /** A part without `index`: the call with its id (none yet: a new one), else the last call. */
  #withoutIndex(id: string): PartialCall | undefined {
    return id ? this.#calls.find((call) => call.id === id) : this.#calls.at(-1);
  }
}

/**
 * Whether a part carrying a name starts another call where one already is: it
 * names a different id, or it brings arguments after the call's are already
 * whole. A part repeating the call's own id never does (servers that repeat
 * the name repeat the id with it, and send it beside unfinished arguments).
 */
function opensNewCall(call: PartialCall, id: string, piece: string): boolean {
  if (id && id === call.id) return false;
  if (id && call.id) return true;
  return piece !== '' && isWholeJson(call.arguments);
}
