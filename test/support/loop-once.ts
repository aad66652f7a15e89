import type { ChatClient } from '../../src/model/chat-client.js';
import { runModelLoop } from '../../src/model/model-loop.js';
import type { AnyTool, ToolContext } from '../../src/toolkit/define-tool.js';
import type { RunStats } from '../../src/types.js';
import { noUsage } from '../../src/usage.js';

/**
 * Runs the model loop once on `call it` (not streamed, at most 3 model calls)
 * and returns the tool message it added, with the run's stats: how a
 * scripted tool call reads to the model through the loop.
 */
export async function toolMessageThroughLoop(
  client: ChatClient,
  tools: readonly AnyTool[],
  toolContext: Omit<ToolContext, 'signal'>,
): Promise<{ content: string; stats: RunStats }> {
  const stats: RunStats = { apiCalls: 0, usage: noUsage(), toolTrace: [], model: 'fake', startedAt: performance.now() };
  const result = await runModelLoop({
    client,
    model: 'fake',
    history: [{ role: 'system', content: 'test' }],
    input: 'call it',
    tools,
    maxIterations: 3,
    signal: new AbortController().signal,
    stream: false,
    stats,
    toolContext,
  });
  const message = result.messages.find((each) => each.role === 'tool');
  return { content: message?.content ?? '(no tool message)', stats };
}
