import { abortedPayload, failureJson } from '../tool-failure.js';
import type { ChatMessage, RunOutcome } from '../types.js';

/** How each outcome ends the sentence "your run was …" of a call it cut off. */
const RUN_ENDED: Record<RunOutcome, string> = {
  completed: 'completed',
  error: 'ended with an error',
  timeout: 'ended by a time limit',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  budget_exceeded: 'stopped at its budget',
};

/**
 * The messages a run added, made safe to keep in the conversation whatever
 * its outcome. Complete turns are kept as they are; an assistant message whose
 * tool calls have no result gets a synthetic one, because servers refuse tool
 * calls without results; it reads as every failed call does,
 * `{"ok":false,"error":{"code":"aborted","message":"… your run was interrupted."}}`.
 * A turn still streaming when the run ended was never recorded, so nothing
 * half-written is kept.
 */
export function settleTurns(added: readonly ChatMessage[], outcome: RunOutcome): ChatMessage[] {
  if (added.length === 0) return [];
  const settled: ChatMessage[] = [];
  let open: string[] = [];
  const closeOpenCalls = () => {
    if (open.length === 0) return;
    const content = failureJson(abortedPayload(RUN_ENDED[outcome]));
    for (const id of open) settled.push({ role: 'tool', tool_call_id: id, content });
    open = [];
  };
  for (const message of added) {
    if (message.role === 'tool') {
      open = open.filter((id) => id !== message.tool_call_id);
      settled.push(message);
      continue;
    }
    closeOpenCalls();
    settled.push(message);
    if (message.role === 'assistant' && message.tool_calls) open = message.tool_calls.map((call) => call.id);
  }
  closeOpenCalls();
  return settled;
}
