/**
 * Context modes: what a child starts with of its parent's conversation.
 * `'fresh'` is nothing; `'fork'` is every message but the system prompt, up
 * to (not including) the assistant message that asked for the child;
 * `{ lastMessages: n }` is the last n of those, never starting on a tool
 * result whose call was cut off.
 */
import { BadArgumentError } from '../errors.js';
import type { ChatMessage } from '../types.js';

/** What a child starts with of its parent's conversation. */
export type ContextMode = 'fresh' | 'fork' | { lastMessages: number };

/**
 * The messages a child inherits. `conversation` is the parent's, up to the
 * call that asks for the child; `null` when there is no parent agent whose
 * conversation could be forked.
 *
 * @throws {BadArgumentError} naming `field` when the mode needs a parent conversation and there is none.
 */
export function inheritedMessages(mode: ContextMode | undefined, conversation: readonly ChatMessage[] | null, field: string): ChatMessage[] {
  if (mode === undefined || mode === 'fresh') return [];
  if (conversation === null) {
    throw new BadArgumentError(field, "'fresh' here: there is no parent agent conversation to fork (give `parentConversation`, or spawn from an agent)", mode);
  }
  const messages = withoutOpenCalls(conversation.filter((message) => message.role !== 'system'));
  if (mode === 'fork') return structuredClone(messages);
  let kept = messages.slice(-mode.lastMessages);
  // A tool result whose assistant call was cut off would be refused by the server.
  while (kept.length > 0 && kept[0]!.role === 'tool') kept = kept.slice(1);
  return structuredClone(kept);
}

/** How a context mode reads in a prompt or a log. */
export const contextModeText = (mode: ContextMode | undefined): string =>
  mode === undefined || typeof mode === 'string' ? (mode ?? 'fresh') : `last ${mode.lastMessages} messages`;

/**
 * The messages without tool calls still open: an assistant message whose
 * calls do not all have their results yet (a run forked while one of its
 * tools runs), and those results. Servers refuse a call without its result.
 */
function withoutOpenCalls(messages: readonly ChatMessage[]): ChatMessage[] {
  const answered = new Set(messages.flatMap((message) => (message.role === 'tool' ? [message.tool_call_id] : [])));
  const open = new Set<string>();
  for (const message of messages) {
    if (message.role !== 'assistant' || !message.tool_calls) continue;
    if (message.tool_calls.some((call) => !answered.has(call.id))) for (const call of message.tool_calls) open.add(call.id);
  }
  if (open.size === 0) return [...messages];
  return messages.filter((message) => {
    if (message.role === 'tool') return !open.has(message.tool_call_id);
    return !(message.role === 'assistant' && message.tool_calls?.some((call) => open.has(call.id)));
  });
}
