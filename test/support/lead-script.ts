import { describeConversation, reply, scriptByConversation } from '../../src/testing/index.js';
import type { RecordedRequest } from '../../src/testing/index.js';

/** The system prompt of the framework's agent (the lead) in the adapter tests. */
export const LEAD = 'You are the lead. Delegate the definitions.';

export const isLead = (request: RecordedRequest) => describeConversation(request).systemText === LEAD;

/**
 * The fake model of the adapter tests: the lead (the framework's agent)
 * delegates a batch of two; each subagent (the runtime's own model loop)
 * looks its word up, then answers.
 */
export const leadScript = scriptByConversation((turn) => {
  if (turn.systemText === LEAD) {
    return turn.lastRole === 'tool'
      ? reply.text(`Lead got: ${turn.toolResults[0]?.content}`)
      : reply.toolCall('delegate_task', { tasks: [{ goal: 'Define alpha', toolsets: ['read'] }, { goal: 'Define beta', toolsets: ['read'] }] });
  }
  const word = /Define (\w+)/.exec(turn.lastUserText)?.[1] ?? '?';
  return turn.lastRole === 'tool' ? reply.text(`${word} means ${turn.toolResults[0]?.content}`) : reply.toolCall('lookup', { word });
});
