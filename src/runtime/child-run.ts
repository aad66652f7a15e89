import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { RunTimeoutError, TokenBudgetError } from '../errors.js';
import type { AnyTool } from '../tools/define-tool.js';
import type { AgentRun, RunContext } from './runtime.js';
import { runModelLoop } from './model-loop.js';
import type { ChatClient, LoopExitReason, LoopInbox } from './model-loop.js';

/** How one handle runs on a model: fixed when it is spawned. */
export interface ChildSetup {
  systemPrompt: string;
  tools: AnyTool[];
  model: string;
  maxIterations: number;
  deniedToolsets: string[];
  /** True when an orchestrator was asked for but the depth made it a leaf. */
  degradedToLeaf: boolean;
  /** The conversation so far: kept across the handle's completed runs. */
  history: ChatCompletionMessageParam[];
}

/** What a model run returns beside its text. */
export interface ChildRunDetails {
  exitReason: LoopExitReason;
}

export interface ModelRunConfig {
  client: ChatClient;
  /** The setup of a handle; handles spawned without one cannot run on the model. */
  setupOf(handleId: string): ChildSetup | undefined;
  /** A run longer than this ends with exit reason `timeout`. */
  childTimeoutMs?: number | undefined;
  /** A run with no model or tool progress for this long ends with exit reason `timeout`. */
  staleTimeoutMs?: number | undefined;
  /** A run whose tokens (input + output) pass this is stopped with an error. */
  maxRunTokens?: number | undefined;
  stream?: boolean | undefined;
  requestOptions?: Record<string, unknown> | undefined;
  /** Where the results of a handle's background delegations reach its conversation. */
  inboxFor?: ((handleId: string) => LoopInbox) | undefined;
}

/**
 * Links the run's signal to the time budgets: the returned signal aborts when
 * the run is stopped, when it runs past `childTimeoutMs`, or when nothing
 * happened for `staleTimeoutMs`. The stale check re-arms from the last
 * progress instead of resetting a timer on every chunk.
 */
function budgetSignal(signal: AbortSignal, config: ModelRunConfig) {
  const controller = new AbortController();
  let runTimer: ReturnType<typeof setTimeout> | undefined;
  let staleTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let lastProgress = performance.now();
  /** Waiting for its own background children is not being stale. */
  let waiting = false;
  if (config.childTimeoutMs !== undefined) {
    const limit = config.childTimeoutMs;
    runTimer = setTimeout(() => controller.abort(new RunTimeoutError('child_timeout', limit)), limit);
  }
  if (config.staleTimeoutMs !== undefined) {
    const limit = config.staleTimeoutMs;
    const check = () => {
      if (waiting) lastProgress = performance.now();
      const idle = performance.now() - lastProgress;
      if (idle >= limit) controller.abort(new RunTimeoutError('stale', limit));
      else staleTimer = setTimeout(check, limit - idle);
    };
    staleTimer = setTimeout(check, limit);
  }
  return {
    signal: controller.signal,
    progress: () => {
      lastProgress = performance.now();
    },
    /** Stops the run for a budget reason. */
    stop: (reason: Error) => controller.abort(reason),
    /** Runs `wait` with stale detection paused. */
    async waitingFor<T>(wait: Promise<T>): Promise<T> {
      waiting = true;
      try {
        return await wait;
      } finally {
        waiting = false;
        lastProgress = performance.now();
      }
    },
    dispose: () => {
      clearTimeout(runTimer);
      clearTimeout(staleTimer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

/** An inbox whose waits do not count as a stale run. */
function pausingStale(inbox: LoopInbox, budget: { waitingFor<T>(wait: Promise<T>): Promise<T> }): LoopInbox {
  return { drain: () => inbox.drain(), next: (signal) => budget.waitingFor(inbox.next(signal)) };
}

/** The AgentRun that runs a handle's inputs through the model loop. */
export function createModelRun(config: ModelRunConfig): AgentRun {
  return async (input: string, context: RunContext) => {
    const setup = config.setupOf(context.handle.id);
    if (!setup) throw new Error(`Handle \`${context.handle.id}\` has no model setup; spawn it through the runtime`);
    context.stats.model = setup.model;
    const budget = budgetSignal(context.signal, config);
    const base: ChatCompletionMessageParam[] =
      setup.history.length > 0 ? setup.history : [{ role: 'system', content: setup.systemPrompt }];
    try {
      const result = await runModelLoop({
        client: config.client,
        model: setup.model,
        messages: [...base, { role: 'user', content: input }],
        tools: setup.tools,
        maxIterations: setup.maxIterations,
        signal: budget.signal,
        stream: config.stream ?? true,
        stats: context.stats,
        toolContext: { handleId: context.handle.id, depth: context.handle.depth },
        requestOptions: config.requestOptions,
        ...(config.inboxFor ? { inbox: pausingStale(config.inboxFor(context.handle.id), budget) } : {}),
        onProgress: budget.progress,
        onTextDelta: (delta) => context.emit({ type: 'text-delta', delta }),
        onThinkingDelta: (delta) => context.emit({ type: 'thinking-delta', delta }),
        onUsage: (usage) => {
          context.reportUsage(usage);
          const spent = context.stats.usage.inputTokens + context.stats.usage.outputTokens;
          if (config.maxRunTokens !== undefined && spent > config.maxRunTokens) {
            budget.stop(new TokenBudgetError(spent, config.maxRunTokens));
          }
        },
        onModelCallEnd: () =>
          context.emit({ type: 'model-call-end', apiCalls: context.stats.apiCalls, usage: { ...context.stats.usage } }),
        onToolCallStart: (call) => context.emit({ type: 'tool-call-start', ...call }),
        onToolCallEnd: (call) => context.emit({ type: 'tool-call-end', ...call }),
      });
      setup.history = result.messages;
      const details: ChildRunDetails = { exitReason: result.exitReason };
      return { output: result.text, details };
    } catch (error) {
      // A budget ran out (and nobody stopped the run): say which.
      const reason: unknown = budget.signal.reason;
      if (!context.signal.aborted && (reason instanceof RunTimeoutError || reason instanceof TokenBudgetError)) throw reason;
      throw error;
    } finally {
      budget.dispose();
    }
  };
}
