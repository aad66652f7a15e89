/**
 * The two contenders of P1 and P2, each timed against a fresh fake server:
 * `delegate` with one batch under `maxConcurrentChildren`, and the floor.
 */
import { performance } from 'node:perf_hooks';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { createRuntime } from '../src/runtime/create-runtime.js';
import { clientFor, goalOf, lookupPlain, lookupTool, MODEL, startTwoCallServer } from './fixtures.js';
import { runFloor } from './floor.js';
import type { RequestShape } from './floor.js';
import { collectGarbage } from './stats.js';

export interface Workload {
  count: number;
  concurrency: number;
  /** Fake server delay before each response. */
  latencyMs: number;
}

const expectedAnswer = (index: number) => `The answer is: ${lookupPlain(`w${index}`)}`;

function checkAnswers(who: string, answers: readonly string[]): void {
  const wrong = answers.findIndex((answer, index) => answer !== expectedAnswer(index));
  if (wrong !== -1) throw new Error(`${who}: child ${wrong} answered ${JSON.stringify(answers[wrong])}, expected ${JSON.stringify(expectedAnswer(wrong))}`);
}

/** Wall time of one `delegate` batch of `count` tasks; checks every child answered. */
export async function timeDelegate(workload: Workload): Promise<number> {
  const server = await startTwoCallServer(workload.latencyMs);
  const runtime = createRuntime({
    client: clientFor(server),
    model: MODEL,
    tools: [lookupTool],
    maxConcurrentChildren: workload.concurrency,
  });
  const tasks = Array.from({ length: workload.count }, (_, index) => ({ goal: goalOf(index) }));
  collectGarbage();
  const start = performance.now();
  const outcome = await runtime.delegate({ tasks });
  const elapsed = performance.now() - start;
  await runtime.shutdown();
  await server.close();
  checkAnswers('delegate', outcome.results.map((result) => result.summary));
  return elapsed;
}

/** Wall time of the floor doing the same work; checks every child answered. */
export async function timeFloor(workload: Workload, shape: RequestShape): Promise<number> {
  const server = await startTwoCallServer(workload.latencyMs);
  const client = clientFor(server);
  collectGarbage();
  const start = performance.now();
  const answers = await runFloor(client, shape, workload.count, workload.concurrency);
  const elapsed = performance.now() - start;
  await server.close();
  checkAnswers('floor', answers);
  return elapsed;
}

/** The system prompt and tools a real child sends, so that the floor sends the same bytes. */
export async function captureRequestShape(): Promise<RequestShape> {
  const server = await startTwoCallServer();
  const runtime = createRuntime({ client: clientFor(server), model: MODEL, tools: [lookupTool] });
  await runtime.delegate({ goal: goalOf(0) });
  await runtime.shutdown();
  await server.close();
  const body = server.requests[0]?.body;
  const system = body?.messages[0];
  if (!body || system?.role !== 'system' || typeof system.content !== 'string') {
    throw new Error('captureRequestShape: the first child request has no system prompt');
  }
  return {
    system: { role: 'system', content: system.content } satisfies ChatCompletionMessageParam,
    tools: (body.tools ?? []).map(
      (tool): ChatCompletionTool => ({
        type: 'function',
        function: {
          name: tool.function.name,
          ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
          ...(tool.function.parameters !== undefined ? { parameters: tool.function.parameters } : {}),
          ...(typeof tool.function.strict === 'boolean' ? { strict: tool.function.strict } : {}),
        },
      }),
    ),
  };
}
