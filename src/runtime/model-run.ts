import { BadArgumentError } from '../errors.js';
import { rejectUnknownKeys } from './validate.js';
import { MIN_SECRET_LENGTH } from '../secrets.js';
import type { ChatMessage } from '../types.js';
import type { Logger } from '../logger.js';
import { runModelLoop } from '../model/model-loop.js';
import type { ChatClient, LoopInbox } from '../model/model-loop.js';
import { ProviderState } from '../model/provider-state.js';
import { resolveProvider } from './providers.js';
import type { TelemetryHooks } from '../telemetry-hooks.js';
import type { ProviderConfig, ResolvedProvider } from './providers.js';

export type { ChatClient } from '../model/model-loop.js';
export type { ProviderConfig, ResolvedProvider } from './providers.js';
import type { RunOf } from './run-types.js';

/** The model-backed run: where model calls go and how they are made. */
export interface ModelRunOptions {
  /** An `openai` client (any OpenAI-compatible base URL): shorthand for `providers: { default: client }`. */
  client?: ChatClient;
  /** Named providers; handles pick one by name (`provider` on spawn or agent type). The one named `default`, else the first, is the default. */
  providers?: Record<string, ChatClient | ProviderConfig>;
  /** The default model; a provider's own `model` wins for its handles. Required unless the default provider names one. */
  model?: string;
  /** Stream model responses. @default true */
  stream?: boolean;
  /** Extra fields for every chat completion request (temperature, …). */
  requestOptions?: Record<string, unknown>;
  /** Retries of a model call on 429, 5xx and connection errors, made by the runtime (honouring `Retry-After`). @default 2 */
  maxRetries?: number;
  /** Accept model responses without `finish_reason` (for servers that never send one). @default false */
  allowMissingFinishReason?: boolean;
}

/** A model-backed run strategy, made by {@link modelRun}: give it to `createRuntime({ run })`. */
export interface ModelRun {
  readonly kind: 'model-run';
  /** @internal The resolved providers, clients included (not enumerable). */
  readonly providers: ReadonlyMap<string, ResolvedProvider>;
  readonly defaultProvider: string;
  /** The default model: `model`, else the default provider's. */
  readonly model: string;
  readonly stream: boolean;
  readonly requestOptions: Record<string, unknown> | undefined;
  readonly maxRetries: number;
  readonly allowMissingFinishReason: boolean;
  /** @internal The providers' API keys, redacted wherever text leaves the runtime (not enumerable). */
  readonly secrets: readonly string[];
  /** A loggable view: provider names and the default model, no client or key. */
  toJSON(): { kind: 'model-run'; providers: string[]; defaultProvider: string; model: string };
}

function optionalType(value: unknown, name: string, type: 'boolean' | 'object'): void {
  if (value === undefined) return;
  const ok = type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value) : typeof value === type;
  if (!ok) throw new BadArgumentError(name, type === 'object' ? 'a plain object' : `a ${type}`, value);
}

/**
 * The model loop as a run strategy: each handle's inputs go through an
 * OpenAI-compatible chat model with the handle's tools, on the provider its
 * setup names.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ run: modelRun({ client: new OpenAI(), model: 'gpt-4.1-mini' }), tools: [readFile] });
 * ```
 */
export function modelRun(options: ModelRunOptions): ModelRun {
  if (typeof options === 'object' && options !== null) rejectUnknownKeys(options, MODEL_RUN_KEYS);
  return buildModelRun(options);
}

/** The options `modelRun` takes (and `createRuntime` passes on to it when no `run` is given). */
export const MODEL_RUN_KEYS = ['client', 'providers', 'model', 'stream', 'requestOptions', 'maxRetries', 'allowMissingFinishReason'] as const;

/** {@link modelRun} without the check for unknown keys: `createRuntime`'s shorthand hands it all its options. */
export function buildModelRun(options: ModelRunOptions): ModelRun {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object with `client` (or `providers`) and `model`', options);
  if (options.client !== undefined && options.providers !== undefined) {
    throw new BadArgumentError('client', 'left out when `providers` is given (name it in `providers` instead)', options.client);
  }
  optionalType(options.providers, 'providers', 'object');
  const given: Record<string, unknown> = options.providers ?? { default: options.client };
  const providers = new Map<string, ResolvedProvider>();
  for (const [name, value] of Object.entries(given)) providers.set(name, resolveProvider(options.providers ? `providers.${name}` : 'client', value));
  if (providers.size === 0) throw new BadArgumentError('providers', 'at least one provider', options.providers);
  const defaultProvider = providers.has('default') ? 'default' : providers.keys().next().value!;
  if (options.model !== undefined && (typeof options.model !== 'string' || options.model.trim() === '')) {
    throw new BadArgumentError('model', 'a model name string', options.model);
  }
  const model = options.model ?? providers.get(defaultProvider)!.model ?? undefined;
  if (model === undefined) throw new BadArgumentError('model', 'a model name string', options.model);
  optionalType(options.stream, 'stream', 'boolean');
  optionalType(options.allowMissingFinishReason, 'allowMissingFinishReason', 'boolean');
  optionalType(options.requestOptions, 'requestOptions', 'object');
  const maxRetries = options.maxRetries ?? 2;
  if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0) throw new BadArgumentError('maxRetries', 'an integer >= 0', maxRetries);
  const secrets: string[] = [];
  for (const { client } of providers.values()) {
    const apiKey = (client as { apiKey?: unknown }).apiKey;
    if (typeof apiKey === 'string' && apiKey.length >= MIN_SECRET_LENGTH) secrets.push(apiKey);
  }
  const strategy = {
    kind: 'model-run' as const,
    defaultProvider,
    model,
    stream: options.stream ?? true,
    requestOptions: options.requestOptions,
    maxRetries,
    allowMissingFinishReason: options.allowMissingFinishReason ?? false,
    /** What a log of the strategy shows: no client, no key. */
    toJSON: () => ({ kind: 'model-run', providers: [...providers.keys()], defaultProvider, model }),
  };
  // The clients and their keys are not enumerable: a strategy logged or spread carries neither.
  return Object.defineProperties(strategy, {
    providers: { value: providers, enumerable: false },
    secrets: { value: secrets, enumerable: false },
  }) as ModelRun;
}

/** True for a run strategy made by {@link modelRun}. */
export const isModelRun = (value: unknown): value is ModelRun =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'model-run';

/** The client of a provider, its own logging routed through the runtime's logger when one was given. */
export function providerClient(strategy: ModelRun, provider: string, logger: Logger | null): ChatClient {
  const found = strategy.providers.get(provider);
  if (!found) throw new BadArgumentError('provider', `one of ${[...strategy.providers.keys()].join(', ')}`, provider);
  // The `openai` client can make a copy of itself that logs through ours; other clients are used as they are.
  const client = found.client as ChatClient & { withOptions?: (options: { logger: Logger }) => ChatClient };
  return logger && typeof client.withOptions === 'function' ? client.withOptions({ logger }) : found.client;
}

export interface StartedModelRunDeps {
  /** The client of each provider, as the runtime set it up. */
  clientOf(provider: string): ChatClient;
  logger: Logger;
  secrets: readonly string[];
  /** Where the results of a handle's background delegations reach its conversation. */
  inboxFor(handleId: string): LoopInbox;
  /** Each provider's shared state, from {@link providerStates}: the root agent uses the same. */
  states: ReadonlyMap<string, ProviderState>;
  /** Where model calls and tool calls are traced. */
  telemetry?: TelemetryHooks | undefined;
}

/**
 * What the runtime learns about each provider, its request slots and its
 * Retry-After pause: one per provider for the runtime's life, shared by every
 * handle on it and by the root agent.
 */
export function providerStates(strategy: ModelRun): ReadonlyMap<string, ProviderState> {
  return new Map([...strategy.providers].map(([name, provider]) => [name, new ProviderState(provider)]));
}

/**
 * Tells the handle while its run waits for its own subagents (a foreground
 * delegation, `wait_agent`, background results): waiting is not being stale.
 * Work that has already settled is no wait: a run that looks in its inbox
 * with nothing on the way (every run, at its end) tells the chart nothing,
 * instead of two `RUN.PROGRESS` events.
 */
function waitAnnouncer(progress: (state: { waiting: boolean }) => void) {
  let waits = 0;
  return async <T>(work: Promise<T>): Promise<T> => {
    let settled = false;
    const markSettled = () => {
      settled = true;
    };
    // A settled promise runs its reactions in the order they were added: this one before the continuation of the await below.
    work.then(markSettled, markSettled);
    await Promise.resolve();
    if (settled) return work;
    if ((waits += 1) === 1) progress({ waiting: true });
    try {
      return await work;
    } finally {
      if ((waits -= 1) === 0) progress({ waiting: false });
    }
  };
}

/**
 * The AgentRun of a model run: a handle's input goes through the model loop
 * with the handle's setup. The conversation lives in the handle: the run
 * starts from it and records each message as it completes; the handle keeps
 * them whatever the outcome.
 */
export function startModelRun(strategy: ModelRun, deps: StartedModelRunDeps): RunOf<unknown> {
  const { states } = deps;
  return async (input, context) => {
    const setup = context.handle.setup;
    if (!setup) throw new Error(`Handle \`${context.handle.id}\` has no model setup; spawn it through the runtime`);
    context.stats.model = setup.model;
    // A new conversation starts with its system prompt and what it inherited: recorded, so the handle's conversation is whole.
    const history: ChatMessage[] =
      context.conversation.length > 0 ? [...context.conversation] : [{ role: 'system', content: setup.systemPrompt }, ...(setup.inherited ?? [])];
    if (context.conversation.length === 0) for (const message of history) context.record(message);
    const waitingFor = waitAnnouncer(context.progress);
    const inbox = deps.inboxFor(context.handle.id);
    const provider = strategy.providers.get(setup.provider);
    const result = await runModelLoop({
      client: deps.clientOf(setup.provider),
      model: setup.model,
      history,
      input,
      tools: context.tools,
      maxIterations: setup.maxIterations,
      maxConversationTokens: setup.maxConversationTokens ?? null,
      signal: context.signal,
      stream: provider?.stream ?? strategy.stream,
      stats: context.stats,
      toolContext: { handleId: context.handle.id, depth: context.handle.depth, cwd: context.cwd, waitingFor, requestApproval: context.requestApproval },
      requestOptions: provider?.requestOptions ? { ...strategy.requestOptions, ...provider.requestOptions } : strategy.requestOptions,
      provider: states.get(setup.provider),
      echoReasoning: provider?.echoReasoning ?? true,
      maxRetries: strategy.maxRetries,
      allowMissingFinishReason: strategy.allowMissingFinishReason,
      maxOutputTokens: context.tokensLeft,
      secrets: deps.secrets,
      logger: deps.logger,
      record: context.record,
      setPartialOutput: context.setPartialOutput,
      inbox: { drain: () => inbox.drain(), next: (signal) => waitingFor(inbox.next(signal)) },
      onProgress: () => context.progress(),
      onTextDelta: (delta) => context.emit({ type: 'text-delta', delta }),
      onThinkingDelta: (delta) => context.emit({ type: 'thinking-delta', delta }),
      onUsage: (usage) => context.reportUsage(usage),
      onModelCallEnd: () => context.emit({ type: 'model-call-end', apiCalls: context.stats.apiCalls, usage: { ...context.stats.usage } }),
      onToolCallStart: (call) => context.emit({ type: 'tool-call-start', ...call }),
      onToolCallEnd: (call) => context.emit({ type: 'tool-call-end', ...call }),
      telemetry: deps.telemetry,
    });
    return result.text;
  };
}
