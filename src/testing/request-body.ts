/**
 * Reading a chat completion request body: JSON with a `messages` array of objects.
 */
import type { ChatRequestBody } from './types.js';

/** The parsed body, or a message saying what is wrong with it (sent as a 400). */
export function parseChatBody(text: string): { body: ChatRequestBody } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { error: `fake server: the request body is not valid JSON (${reason})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: `fake server: expected the request body to be a JSON object, got ${JSON.stringify(value)}` };
  }
  if (!('messages' in value) || !Array.isArray(value.messages)) {
    return { error: 'fake server: expected the request body to have a `messages` array' };
  }
  const { messages } = value;
  if (!messages.every((message) => typeof message === 'object' && message !== null)) {
    return { error: 'fake server: expected every entry of `messages` to be an object' };
  }
  // Checked enough for the server's own reads; the rest is the client's business.
  return { body: value as ChatRequestBody };
}
