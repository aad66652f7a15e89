/**
 * The floor of P1/P2: the raw `openai` client doing what each child does (two
 * streamed calls with a tool run between them) in a plain promise pool, with
 * no runtime around it.
 */
import type OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { MODEL, goalOf, lookupPlain } from './workload.js';

/** The parts of a child's request that do not depend on its task, copied from a real child request. */
export interface RequestShape {
  system: { role: 'system'; content: string };
  tools: ChatCompletionTool[];
}

interface Turn {
  content: string;
  toolCalls: ChatCompletionMessageFunctionToolCall[];
}

/** One streamed call, consumed the way the model loop consumes it (usage chunk included). */
async function streamTurn(client: OpenAI, messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[]): Promise<Turn> {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages,
    tools,
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = '';
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    if (delta.content) content += delta.content;
    for (const part of delta.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
    }
  }
  const toolCalls = calls.map(
    (call): ChatCompletionMessageFunctionToolCall => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }),
  );
  return { content, toolCalls };
}

/** One child: ask, run the tool it calls, ask again; resolves with the answer. */
async function runChild(client: OpenAI, shape: RequestShape, index: number): Promise<string> {
  const messages: ChatCompletionMessageParam[] = [shape.system, { role: 'user', content: goalOf(index) }];
  const first = await streamTurn(client, messages, shape.tools);
  messages.push({ role: 'assistant', content: first.content || null, tool_calls: first.toolCalls });
  for (const call of first.toolCalls) {
    const { word } = JSON.parse(call.function.arguments) as { word: string };
    messages.push({ role: 'tool', tool_call_id: call.id, content: lookupPlain(word) });
  }
  return (await streamTurn(client, messages, shape.tools)).content;
}

/** Runs `child(0…count-1)`, `concurrency` at a time; resolves with their results in order. */
export async function runPool<T>(count: number, concurrency: number, child: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await child(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Runs `count` floor children, `concurrency` at a time; resolves with their answers in order. */
export function runFloor(client: OpenAI, shape: RequestShape, count: number, concurrency: number): Promise<string[]> {
  return runPool(count, concurrency, (index) => runChild(client, shape, index));
}
