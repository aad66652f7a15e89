/**
 * A bound on what a request carries: past `maxTokens` (estimated), the
 * oldest turns are left out of the request. Never left out: the system
 * prompt, the run's input, and half of a tool call and its result (an
 * assistant message with tool calls goes with its results, or not at all).
 */
import { ConversationTooLongError } from '../errors.js';
import type { ChatMessage } from '../types.js';

/** Characters per token in the estimate: about right for English text and JSON with common tokenizers. */
export const CHARS_PER_TOKEN = 4;

/** A token estimate of one message: its JSON length over {@link CHARS_PER_TOKEN}, rounded up. */
export const estimateTokens = (message: ChatMessage): number => Math.ceil(JSON.stringify(message).length / CHARS_PER_TOKEN);

/**
 * The messages to send: `messages` itself when it fits, else without its
 * oldest units. A unit is one message, or an assistant message with tool
 * calls together with the tool results that follow it. `inputIndex` is the
 * run's input: it and the system prompt (a leading `system` message) stay;
 * so does the newest unit.
 *
 * @throws {ConversationTooLongError} when what must stay does not fit.
 */
export function fitConversation(messages: readonly ChatMessage[], maxTokens: number, inputIndex: number): readonly ChatMessage[] {
  const sizes = messages.map(estimateTokens);
  let total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= maxTokens) return messages;
  const kept = messages.map(() => true);
  const units = unitsOf(messages);
  const pinned = (unit: readonly number[]) =>
    unit.some((index) => index === inputIndex || (index === 0 && messages[0]!.role === 'system')) || unit === units[units.length - 1];
  for (const unit of units) {
    if (total <= maxTokens) break;
    if (pinned(unit)) continue;
    for (const index of unit) {
      kept[index] = false;
      total -= sizes[index]!;
    }
  }
  if (total > maxTokens) throw new ConversationTooLongError(total, maxTokens);
  return messages.filter((_, index) => kept[index]);
}

/** The indices of `messages` grouped into units, oldest first. */
function unitsOf(messages: readonly ChatMessage[]): number[][] {
  const units: number[][] = [];
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index]!;
    if (message.role === 'tool' && units.length > 0 && isCallUnit(messages, units[units.length - 1]!)) {
      units[units.length - 1]!.push(index);
    } else units.push([index]);
  }
  return units;
}

const isCallUnit = (messages: readonly ChatMessage[], unit: readonly number[]): boolean => {
  const first = messages[unit[0]!]!;
  return first.role === 'assistant' && (first.tool_calls?.length ?? 0) > 0;
};
