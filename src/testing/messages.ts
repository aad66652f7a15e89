import type { ChatRequestMessage } from './types.js';

/**
 * The text of a chat message: its string content, or its text parts joined.
 *
 * @example
 * ```ts
 * const last = request.body.messages.at(-1);
 * if (last && messageText(last).includes('urgent')) return reply.text('On it.');
 * ```
 */
export function messageText(message: ChatRequestMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (typeof part.text === 'string') text += part.text;
  }
  return text;
}
