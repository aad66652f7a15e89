/**
 * The agent loop over OpenAI chat completions: ask the model, run the tools
 * it calls, feed results back, until it answers or the iteration budget runs
 * out. Every complete message is recorded as it happens, so a run stopped at
 * any point keeps a valid conversation.
 */
import { MaxIterationsError, ModelOutputError } from '../errors.js';
import { BudgetExceededError } from '../budget-errors.js';
import { toolResultToString } from '../toolkit/tool-arguments.js';
import type { AnyTool, ToolContext } from '../toolkit/define-tool.js';
import { toolDefinitionsFor } from '../toolkit/dynamic-tool.js';
import { executeToolCall } from '../toolkit/execute.js';
import { failureJson } from '../tool-failure.js';
import { createToolRegistry } from '../toolkit/toolsets.js';
import type { ToolRegistry } from '../toolkit/toolsets.js';
import type { ChatAssistantMessage, ChatMessage, RunStats, Usage } from '../types.js';
import { redactSecrets } from '../secrets.js';
import type { Logger } from '../logger.js';
import type { TelemetryHooks } from '../telemetry-hooks.js';
import type { ChatClient } from './chat-client.js';
import type { ProviderState } from './provider-state.js';
import { callModel, partialOutputOf } from './model-call.js';
import { estimateTokens, fitConversation } from './conversation-window.js';
import type { ModelTurn } from './model-call.js';

export type { ChatClient } from './chat-client.js';

/** How the loop ended when it returned: the model answered. Running out of model calls throws `MaxIterationsError`. */
export type LoopExitReason = 'completed';

export interface ModelLoopOptions {
  client: ChatClient;
  model: string;
  /** The conversation before this input (system prompt first). */
  history: readonly ChatMessage[];
  /** The user's input for this run. */
  input: string;
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
  requestOptions?: Record<string, unknown> | undefined;
  /** Retries of 429, 5xx and connection errors per model call. @default 2 */
  maxRetries?: number | undefined;
  /** The provider's shared state (request limit, what its server refuses). */
  provider?: ProviderState | undefined;
  /**
   * Send the thinking of a turn with tool calls back on its assistant message
   * (`reasoning_content` or `reasoning`, as it came): DeepSeek's thinking mode
   * refuses the next request without it.
   * @default true (when the server sent any)
   */
  echoReasoning?: boolean | undefined;
  /** Accept responses without `finish_reason`. @default false */
  allowMissingFinishReason?: boolean | undefined;
  /**
   * The tokens the budget has left, read before each model call (`null`:
   * unbounded): the request asks for no more; with none left, or an answer
   * cut off at the cap, the run ends with `BudgetExceededError`. @default unbounded
   */
  maxOutputTokens?: (() => number | null) | undefined;
  /** Redacted from error text. */
  secrets?: readonly string[] | undefined;
  /** Where retries are told (at `debug`). */
  logger?: Logger | undefined;
  /** Every complete message, as it is added: the user input, each assistant turn, each tool result, each injected message. */
  record?: (message: ChatMessage) => void;
  /** The text produced so far that is not yet an answer. */
  setPartialOutput?: (text: string | null) => void;
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
  /** Estimated tokens a request may carry (see {@link fitConversation}); `null` or absent: no bound. */
  maxConversationTokens?: number | null | undefined;
  /** Where model calls and tool calls are traced, each in its span. */
  telemetry?: TelemetryHooks | undefined;
}

/**
 * Where messages from outside reach a running conversation: what has arrived
 * is added before each model call, and when the model answers while more is
 * still expected, the loop waits for it and goes on.
 */
export interface LoopInbox {
  /** Messages that arrived since the last call, removed from the inbox. */
  drain(): ChatMessage[];
  /** Waits for the next messages; `null` when nothing more is expected. Takes nothing once `signal` has fired. */
  next(signal: AbortSignal): Promise<ChatMessage[] | null>;
}

export interface ModelLoopResult {
  text: string;
  exitReason: LoopExitReason;
  /** The whole conversation: history, input and every message of this run. */
  messages: ChatMessage[];
}

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

/** Runs the loop; throws if the signal aborts or a model call fails (the error carries `partialOutput`). */
export async function runModelLoop(options: ModelLoopOptions): Promise<ModelLoopResult> {
  const { stats, signal } = options;
  const messages: ChatMessage[] = [...options.history];
  const add = (message: ChatMessage) => {
    messages.push(message);
    options.record?.(message);
  };
  const registry = createToolRegistry(options.tools);
  let lastText = '';
  add({ role: 'user', content: options.input });
  const inputIndex = messages.length - 1;
  const bound = options.maxConversationTokens ?? null;

  for (let iteration = 0; iteration < options.maxIterations; iteration += 1) {
    signal.throwIfAborted();
    if (options.inbox) for (const message of options.inbox.drain()) add(message);
    // Definitions are built per call: the delegation tools describe the limits in force now.
    const definitions = toolDefinitionsFor(options.tools, options.toolContext);
    let turnText = '';
    let turn: ModelTurn;
    const sent = bound === null ? messages : fitConversation(messages, bound, inputIndex);
    const cap = outputCap(options.maxOutputTokens?.() ?? null, sent);
    try {
      const call = () => callModel({
        client: options.client,
        model: options.model,
        messages: sent,
        tools: definitions,
        signal,
        stream: options.stream ?? true,
        requestOptions: options.requestOptions,
        maxOutputTokens: cap,
        provider: options.provider,
        ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
        ...(options.allowMissingFinishReason !== undefined ? { allowMissingFinishReason: options.allowMissingFinishReason } : {}),
        ...(options.secrets ? { secrets: options.secrets } : {}),
        onTextDelta: (delta) => {
          turnText += delta;
          options.setPartialOutput?.(turnText);
          options.onTextDelta?.(delta);
        },
        ...(options.onThinkingDelta ? { onThinkingDelta: options.onThinkingDelta } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.logger ? { onRetry: retryReporter(options.logger, options.model) } : {}),
      });
      turn = await (options.telemetry ? options.telemetry.modelCall({ model: options.model, client: options.client }, call) : call());
    } catch (error) {
      // The turn did not finish: what it streamed is partial, never an answer.
      const partial = partialOutputOf(error) ?? (turnText || null);
      options.setPartialOutput?.(partial ?? (lastText || null));
      // A response that came back unfinished (cut off, filtered) was still a call, and is still paid for.
      if (error instanceof ModelOutputError && error.usage) {
        stats.apiCalls += 1;
        options.onUsage?.(error.usage);
      }
      // Cut off at the budget's cap (not at a smaller limit of the caller's or the model's own): the budget ended it.
      if (cap !== null && error instanceof ModelOutputError && (error.finishReason === 'length' || error.finishReason === 'max_tokens') && cutAtCap(error, cap, options.requestOptions)) {
        throw new BudgetExceededError(`The answer was cut off at the ${cap} tokens the budget had left; the run was stopped`, { cause: error });
      }
      throw error;
    }
    stats.apiCalls += 1;
    if (turn.usage) options.onUsage?.(turn.usage);
    options.onModelCallEnd?.();
    lastText = turn.content || lastText;
    options.setPartialOutput?.(lastText || null);
    const callIndex = messages.length;
    add(assistantMessage(turn, options.echoReasoning ?? true));
    if (turn.toolCalls.length === 0) {
      const arrived = options.inbox ? await options.inbox.next(signal) : null;
      if (!arrived) return { text: turn.content, exitReason: 'completed', messages };
      for (const message of arrived) add(message);
      continue;
    }
    for (const call of turn.toolCalls) {
      signal.throwIfAborted();
      const content = await runToolCall(options, registry, call, () => messages.slice(0, callIndex));
      signal.throwIfAborted();
      add({ role: 'tool', tool_call_id: call.id, content });
      options.onProgress?.();
    }
  }
  // Out of model calls while the model was still working: not a completion (the last text is the partial output).
  throw new MaxIterationsError(options.maxIterations);
}

/**
 * Below this many tokens left, requests carry the budget's cap: every current
 * model answers at least this many, so a larger cap (a whole budget) is never
 * sent to a server that would refuse it as over the model's output limit.
 */
export const OUTPUT_CAP_BELOW = 4096;

/**
 * The cap a request carries, from the tokens the budget has left less the
 * request's estimated input; `null` when unbounded or when that is at least
 * {@link OUTPUT_CAP_BELOW}. Nothing left for an answer ends the run before the call.
 */
function outputCap(left: number | null, messages: readonly ChatMessage[]): number | null {
  if (left === null) return null;
  const input = messages.reduce((sum, message) => sum + estimateTokens(message), 0);
  const forAnswer = left - input;
  if (forAnswer <= 0) {
    throw new BudgetExceededError(`The budget has ${left} tokens left, and the next request alone carries about ${input}; the run was stopped`);
  }
  return forAnswer < OUTPUT_CAP_BELOW ? forAnswer : null;
}

/** Whether a cut-off answer stopped at the budget's cap: its output reached it, and the caller's own limit was not smaller. */
function cutAtCap(error: ModelOutputError, cap: number, requestOptions: Record<string, unknown> | undefined): boolean {
  const own = [requestOptions?.max_tokens, requestOptions?.max_completion_tokens].filter((value): value is number => typeof value === 'number');
  if (own.some((limit) => limit < cap)) return false;
  return error.usage === null || error.usage.outputTokens >= cap;
}

/** The turn as the conversation keeps it: fields the server added are sent back, and so is the thinking behind tool calls. */
function assistantMessage(turn: ModelTurn, echoReasoning: boolean): ChatAssistantMessage {
  const calls = turn.toolCalls.length > 0;
  return {
    ...turn.extra,
    role: 'assistant',
    content: turn.content || null,
    ...(calls ? { tool_calls: turn.toolCalls } : {}),
    ...(calls && echoReasoning && turn.reasoning ? { [turn.reasoning.field]: turn.reasoning.text } : {}),
  };
}

/** Tells the logger about a retry of a model call. */
function retryReporter(logger: Logger, model: string) {
  return (retry: { attempt: number; delayMs: number; reason: string }) =>
    logger.debug(`model call to ${model} failed (attempt ${retry.attempt}), retrying in ${Math.round(retry.delayMs)} ms: ${retry.reason}`);
}

/**
 * Runs one tool call through the executor every caller uses (the public
 * dispatcher too): a failure reaches the model as the one error format,
 * `{"ok":false,"error":{"code","message","field"?}}`, redacted of every key
 * the runtime knows; a result reaches it as the tool's own text.
 */
async function runToolCall(
  options: ModelLoopOptions,
  registry: ToolRegistry,
  call: ModelTurn['toolCalls'][number],
  conversation: () => readonly ChatMessage[],
): Promise<string> {
  const name = call.function.name;
  const argumentBytes = byteLength(call.function.arguments);
  const started = performance.now();
  options.onToolCallStart?.({ callId: call.id, tool: name, argumentBytes });
  const execute = () => executeToolCall(registry, name, call.function.arguments, { ...options.toolContext, conversation, signal: options.signal, callId: call.id });
  const outcome = await (options.telemetry ? options.telemetry.toolCall({ callId: call.id, tool: name, argumentsJson: call.function.arguments }, execute) : execute());
  const content = outcome.ok
    ? toolResultToString(outcome.result)
    : failureJson({ ...outcome.error, message: redactSecrets(outcome.error.message, options.secrets ?? []) });
  const resultBytes = byteLength(content);
  const evidence = outcome.ok && outcome.evidence.length > 0 ? { evidence: outcome.evidence.map(({ kind, value }) => ({ kind, value: redactSecrets(value, options.secrets ?? []) })) } : {};
  options.stats.toolTrace.push({ tool: name, argumentBytes, resultBytes, ok: outcome.ok, ...(outcome.ok ? evidence : { error: content }) });
  options.onToolCallEnd?.({ callId: call.id, tool: name, ok: outcome.ok, resultBytes, durationMs: performance.now() - started });
  return content;
}
