/**
 * What the model-backed benchmarks share: the trivial tool, the script of the
 * fake model (one tool call, then an answer) and the client.
 */
import { z } from 'zod';
import { reply, scriptByConversation, startFakeServer } from '../src/testing/index.js';
import type { FakeServer } from '../src/testing/index.js';
import { defineTool } from '../src/toolkit/define-tool.js';

export { MODEL, checkAnswers, clientFor, goalOf, lookupPlain } from './workload.js';

/** The tool every child calls once. */
export const lookupTool = defineTool({
  name: 'lookup',
  toolset: 'read',
  description: 'Looks a word up.',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => `definition of ${word}`,
});


/** First request of a conversation: call `lookup`; after the tool result: answer. */
export const twoCallScript = scriptByConversation((turn) => {
  if (turn.lastRole === 'tool') return reply.text(`The answer is: ${turn.toolResults[0]?.content ?? ''}`);
  const word = /word (\w+)/.exec(turn.lastUserText)?.[1] ?? 'none';
  return reply.toolCall('lookup', { word });
});

/** P3's answer: 4,000 characters in chunks of 8, one per ms, so the stream outlasts any interrupt point. */
export const LONG_ANSWER = 'streaming '.repeat(400);

/** A fresh fake server streaming {@link LONG_ANSWER} to every request. */
export function startLongAnswerServer(): Promise<FakeServer> {
  return startFakeServer({ script: () => reply.text(LONG_ANSWER, { chunkDelayMs: 1, chunkSize: 8 }) });
}

/** A fresh fake server running {@link twoCallScript}. */
export function startTwoCallServer(latencyMs = 0): Promise<FakeServer> {
  return startFakeServer({ script: twoCallScript, latencyMs });
}

