/**
 * The agent loop over OpenAI chat completions: ask the model, run the tools
 * it calls, feed results back, until it answers or the iteration budget runs
 * out. The only module that imports `openai`.
 */
import type OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { parseToolArguments, toolResultToString } from '../tools/define-tool.js';
import type { AnyTool, OpenAIFunctionTool, ToolContext } from '../tools/define-tool.js';
import { toolDefinitionsFor } from '../tools/dynamic-tool.js';
import type { RunStats, Usage } from '../types.js';

/** Any client with the `chat.completions.create` of the `openai` package. */
export type ChatClient = Pick<OpenAI, 'chat'>;

export type LoopExitReason = 'completed' | 'max_iterations';

export interface ModelLoopOptions {
  client: ChatClient;
  model: string;
  messages: ChatCompletionMessageParam[];
  tools: readonly AnyTool[];
  /** Model calls allowed. @default 50 */
  maxIterations: number;
  signal: AbortSignal;
  /** Stream responses (text deltas become events; an abort stops the transfer). @default true */
  stream?: boolean;
  /** Updated in place as the loop goes. */
  stats: RunStats;
  toolContext: Omit<ToolContext, 'signal'>;
  /** Extra request fields (temperature, …), merged into every request. */
  requestOptions?: Record<string, unknown>;
  onTextDelta?: (delta: string) => void;
  onThinkingDelta?: (delta: string) => void;
  onUsage?: (usage: Usage) => void;
  onModelCallEnd?: () => void;
  onToolCallStart?: (call: { callId: string; tool: string; argumentBytes: number }) => void;
  onToolCallEnd?: (call: { callId: string; tool: string; ok: boolean; resultBytes: number; durationMs: number }) => void;
  /** Called whenever anything happens (a chunk, a tool result): feeds stale detection. */
  onProgress?: () => void;
  /** Messages arriving from outside the conversation (background delegation results). */
  inbox?: LoopInbox;
}

/**
 * Where messages from outside reach a running conversation: what has arrived
 * is added before each model call, and when the model answers while more is
 * still expected, the loop waits for it and goes on.
 */
export interface LoopInbox {
  /** Messages that arrived since the last call, removed from the inbox. */
  drain(): ChatCompletionMessageParam[];
  /** Waits for the next messages; `null` when nothing more is expected. */
  next(signal: AbortSignal): Promise<ChatCompletionMessageParam[] | null>;
}

export interface ModelLoopResult {
  text: string;
  exitReason: LoopExitReason;
  messages: ChatCompletionMessageParam[];
}

interface Turn {
  content: string;
  toolCalls: ChatCompletionMessageFunctionToolCall[];
  usage: Usage | null;
}

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

/** Runs the loop; throws if the signal aborts or a model call fails. */
export async function runModelLoop(options: ModelLoopOptions): Promise<ModelLoopResult> {
  const { stats, signal } = options;
  const messages = [...options.messages];
  const byName = new Map(options.tools.map((tool) => [tool.name, tool]));
  let lastText = '';

  for (let iteration = 0; iteration < options.maxIterations; iteration += 1) {
    signal.throwIfAborted();
    if (options.inbox) messages.push(...options.inbox.drain());
    // Definitions are built per call: the delegation tools describe the limits in force now.
    const definitions = toolDefinitionsFor(options.tools, options.toolContext);
    const turn = await callModel(options, messages, definitions);
    stats.apiCalls += 1;
    if (turn.usage) options.onUsage?.(turn.usage);
    options.onModelCallEnd?.();
    lastText = turn.content || lastText;
    messages.push({
      role: 'assistant',
      content: turn.content || null,
      ...(turn.toolCalls.length > 0 ? { tool_calls: turn.toolCalls } : {}),
    });
    if (turn.toolCalls.length === 0) {
      const arrived = await options.inbox?.next(signal);
      if (!arrived) return { text: turn.content, exitReason: 'completed', messages };
      messages.push(...arrived);
      continue;
    }
    for (const call of turn.toolCalls) {
      signal.throwIfAborted();
      const content = await runToolCall(options, byName, call);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
      options.onProgress?.();
    }
  }
  return { text: lastText, exitReason: 'max_iterations', messages };
}

async function callModel(
  options: ModelLoopOptions,
  messages: ChatCompletionMessageParam[],
  tools: OpenAIFunctionTool[],
): Promise<Turn> {
  const base = {
    ...options.requestOptions,
    model: options.model,
    messages,
    ...(tools.length > 0 ? { tools } : {}),
  };
  if (options.stream === false) {
    const completion = await options.client.chat.completions.create({ ...base, stream: false }, { signal: options.signal });
    options.onProgress?.();
    const message = completion.choices[0]?.message;
    const toolCalls = (message?.tool_calls ?? []).filter(
      (call): call is ChatCompletionMessageFunctionToolCall => call.type === 'function',
    );
    return {
      content: message?.content ?? '',
      toolCalls,
      usage: completion.usage ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens } : null,
    };
  }
  const stream = await options.client.chat.completions.create(
    { ...base, stream: true, stream_options: { include_usage: true } },
    { signal: options.signal },
  );
  let content = '';
  let usage: Usage | null = null;
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
    options.onProgress?.();
    if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    if (delta.content) {
      content += delta.content;
      options.onTextDelta?.(delta.content);
    }
    const reasoning = (delta as { reasoning_content?: unknown; reasoning?: unknown }).reasoning_content ??
      (delta as { reasoning?: unknown }).reasoning;
    if (typeof reasoning === 'string' && reasoning) options.onThinkingDelta?.(reasoning);
    for (const part of delta.tool_calls ?? []) {
      // Some OpenAI-compatible servers leave out `index`: place the part by its id, else with the last call.
      const index = typeof part.index === 'number' ? part.index : indexWithoutPosition(calls, part.id);
      const call = (calls[index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
    }
  }
  const toolCalls = calls
    .filter((call) => call !== undefined)
    .map(
      (call, index): ChatCompletionMessageFunctionToolCall => ({
        id: call.id || `call_${index}`,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }),
    );
  return { content, toolCalls, usage };
}

function indexWithoutPosition(calls: Array<{ id: string } | undefined>, id: string | undefined): number {
  if (id) {
    const known = calls.findIndex((call) => call?.id === id);
    return known === -1 ? calls.length : known;
  }
  return Math.max(calls.length - 1, 0);
}

/** Runs one tool call; every failure becomes a readable result for the model. */
async function runToolCall(
  options: ModelLoopOptions,
  byName: Map<string, AnyTool>,
  call: ChatCompletionMessageFunctionToolCall,
): Promise<string> {
  const name = call.function.name;
  const argumentsJson = call.function.arguments;
  const argumentBytes = byteLength(argumentsJson);
  const started = performance.now();
  options.onToolCallStart?.({ callId: call.id, tool: name, argumentBytes });
  let ok = false;
  let content: string;
  const tool = byName.get(name);
  if (!tool) {
    const available = [...byName.keys()];
    content = `Error: there is no tool named \`${name}\`. Available tools: ${available.length > 0 ? available.join(', ') : 'none'}.`;
  } else {
    const parsed = parseToolArguments(tool, argumentsJson);
    if (!parsed.ok) content = `Error: ${parsed.error}`;
    else {
      try {
        const result = await tool.execute(parsed.args, { ...options.toolContext, signal: options.signal });
        content = toolResultToString(result);
        ok = true;
      } catch (error) {
        // An abort is not the tool's failure: let it end the run.
        options.signal.throwIfAborted();
        content = `Error: tool \`${name}\` failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  }
  const resultBytes = byteLength(content);
  options.stats.toolTrace.push({ tool: name, argumentBytes, resultBytes, ok, ...(ok ? {} : { error: content }) });
  options.onToolCallEnd?.({ callId: call.id, tool: name, ok, resultBytes, durationMs: performance.now() - started });
  return content;
}
