/** The idempotency key `spawn_agent` and `delegate_task` give the runtime: the model's id for the call. */
import { createHash } from 'node:crypto';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../delegation/idempotency.js';
import type { ToolContext } from '../toolkit/define-tool.js';

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * The key of a tool call: its id, qualified in a model loop by the
 * conversation before the call. Servers reuse ids (`call_0` in every
 * response; the loop itself numbers calls that came without one), and an
 * agent may hold several conversations (the root agent's `runAgent` calls):
 * a call is the same call only with the same id after the same conversation,
 * which is what a loop that runs a call again has. `undefined` without an id.
 */
export function callKey(context: Pick<ToolContext, 'callId' | 'conversation'>): string | undefined {
  const { callId } = context;
  if (typeof callId !== 'string' || callId.length === 0) return undefined;
  const key = context.conversation ? `${callId}@${digest(JSON.stringify(context.conversation()))}` : callId;
  return key.length <= MAX_IDEMPOTENCY_KEY_LENGTH ? key : `sha256:${digest(key)}`;
}
