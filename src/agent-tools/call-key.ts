/** The idempotency key `spawn_agent` and `delegate_task` give the runtime: the model's id for the call. */
import { createHash } from 'node:crypto';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../delegation/idempotency.js';
import type { ToolContext } from '../toolkit/define-tool.js';

/**
 * The key of a tool call: its id, and, when earlier turns of the same
 * conversation already used that id (servers that number calls per response,
 * `call_0`, or send none), which use of it this is. A call run again from
 * the same conversation gets the same key; `undefined` without an id.
 */
export function callKey(context: Pick<ToolContext, 'callId' | 'conversation'>): string | undefined {
  const { callId } = context;
  if (typeof callId !== 'string' || callId.length === 0) return undefined;
  let earlier = 0;
  for (const message of context.conversation?.() ?? []) {
    if (message.role !== 'assistant' || !message.tool_calls) continue;
    for (const call of message.tool_calls) if (call.id === callId) earlier += 1;
  }
  const key = earlier === 0 ? callId : `${callId}#${earlier}`;
  return key.length <= MAX_IDEMPOTENCY_KEY_LENGTH ? key : `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}
