import type { AnyTool } from '../tools/define-tool.js';
import type { ChatMessage } from '../types.js';
import type { AgentRun } from './runtime-types.js';
import type { Logger } from './logger.js';
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
}

/** What a model run returns beside its text. */
export interface ChildRunDetails {
  exitReason: LoopExitReason;
}

export interface ModelRunConfig {
  client: ChatClient;
  /** The setup of a handle; handles spawned without one cannot run on the model. */
  setupOf(handleId: string): ChildSetup | undefined;
  stream?: boolean | undefined;
  requestOptions?: Record<string, unknown> | undefined;
  /** Retries of 429, 5xx and connection errors per model call. */
  maxRetries?: number | undefined;
  /** Accept responses without `finish_reason`. */
  allowMissingFinishReason?: boolean | undefined;
  secrets?: readonly string[] | undefined;
  logger?: Logger | undefined;
  /** Where the results of a handle's background delegations reach its conversation. */
  inboxFor?: ((handleId: string) => LoopInbox) | undefined;
}

/**
 * Tells the handle while its run waits for its own subagents (a foreground
 * delegation, `wait_agent`, background results): waiting is not being stale.
 */
function waitAnnouncer(progress: (state: { waiting: boolean }) => void) {
  let waits = 0;
  return async <T>(work: Promise<T>): Promise<T> => {
    if ((waits += 1) === 1) progress({ waiting: true });
    try {
      return await work;
    } finally {
      if ((waits -= 1) === 0) progress({ waiting: false });
    }
  };
}

/**
 * The AgentRun that runs a handle's inputs through the model loop. The
 * conversation lives in the handle: the run starts from it and records each
 * message as it completes; the handle keeps them whatever the outcome.
 */
export function createModelRun(config: ModelRunConfig): AgentRun {
  return async (input, context) => {
    const setup = config.setupOf(context.handle.id);
    if (!setup) throw new Error(`Handle \`${context.handle.id}\` has no model setup; spawn it through the runtime`);
    context.stats.model = setup.model;
    const history: ChatMessage[] =
      context.conversation.length > 0 ? [...context.conversation] : [{ role: 'system', content: setup.systemPrompt }];
    // A new conversation starts with its system prompt: record it so the handle's conversation is whole.
    if (context.conversation.length === 0) context.record(history[0]!);
    const waitingFor = waitAnnouncer(context.progress);
    const inbox = config.inboxFor?.(context.handle.id);
    const result = await runModelLoop({
      client: config.client,
      model: setup.model,
      history,
      input,
      tools: setup.tools,
      maxIterations: setup.maxIterations,
      signal: context.signal,
      stream: config.stream ?? true,
      stats: context.stats,
      toolContext: { handleId: context.handle.id, depth: context.handle.depth, waitingFor },
      requestOptions: config.requestOptions,
      maxRetries: config.maxRetries,
      allowMissingFinishReason: config.allowMissingFinishReason,
      secrets: config.secrets,
      logger: config.logger,
      record: context.record,
      setPartialOutput: context.setPartialOutput,
      ...(inbox ? { inbox: { drain: () => inbox.drain(), next: (signal) => waitingFor(inbox.next(signal)) } } : {}),
      onProgress: () => context.progress(),
      onTextDelta: (delta) => context.emit({ type: 'text-delta', delta }),
      onThinkingDelta: (delta) => context.emit({ type: 'thinking-delta', delta }),
      onUsage: (usage) => context.reportUsage(usage),
      onModelCallEnd: () =>
        context.emit({ type: 'model-call-end', apiCalls: context.stats.apiCalls, usage: { ...context.stats.usage } }),
      onToolCallStart: (call) => context.emit({ type: 'tool-call-start', ...call }),
      onToolCallEnd: (call) => context.emit({ type: 'tool-call-end', ...call }),
    });
    const details: ChildRunDetails = { exitReason: result.exitReason };
    return { output: result.text, details };
  };
}
