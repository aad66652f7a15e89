import type { ChatMessage, RunOutcome } from '../types.js';

/**
 * The messages a run added, made safe to keep in the conversation whatever
 * its outcome. Complete turns are kept as they are; an assistant message whose
 * tool calls have no result gets a synthetic one (`[not run: interrupted]`),
 * because servers refuse tool calls without results. A turn still streaming
 * when the run ended was never recorded, so nothing half-written is kept.
 */
export function settleTurns(added: readonly ChatMessage[], outcome: RunOutcome): ChatMessage[] {
  if (added.length === 0) return [];
  const settled: ChatMessage[] = [];
  let open: string[] = [];
  const closeOpenCalls = () => {
    for (const id of open) settled.push({ role: 'tool', tool_call_id: id, content: `[not run: ${outcome}]` });
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
