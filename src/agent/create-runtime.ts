import { BadArgumentError, RuntimeShutDownError } from '../errors.js';
import { createAgentTools } from '../agent-tools/agent-tools.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import { createToolRegistry } from '../toolkit/toolsets.js';
import type { Usage } from '../types.js';
import type { RunHandleInfo, RunOf } from '../runtime/run-types.js';
import { contextModeSchema } from '../toolkit/tool-schemas.js';
import { createDelegator } from '../delegation/delegation.js';
import { createHandles } from '../runtime/handles.js';
import { createWorktreeManager } from '../runtime/worktrees.js';
import { BackgroundInboxes, ROOT_AGENT } from '../delegation/inbox.js';
import { redactingLogger, resolveLogger } from '../logger.js';
import { MIN_SECRET_LENGTH } from '../secrets.js';
import { providerClient, providerStates, startModelRun } from '../runtime/model-run.js';
import { runParentAgent } from './parent-agent.js';
import { prepareChild } from '../delegation/prepare.js';
import type { PrepareDeps } from '../delegation/prepare.js';
import { checkRuntimeOptions } from './runtime-options.js';
import type { AgentRun, Runtime, RuntimeOptions } from './runtime-api.js';
import { treeUsage } from '../delegation/tree-usage.js';
import { addUsage, noUsage } from '../usage.js';
import { optionalStringArray, rejectUnknownKeys, requireMessage } from '../runtime/validate.js';
import { checkBudget } from '../runtime/budgets.js';
import { resolveAgentType } from '../delegation/agent-types.js';
import type { ResolvedOptions } from '../delegation/delegating-runtime.js';
import { registerTelemetry } from '../telemetry-hooks.js';
import { IdempotencyKeys, argumentsDigest, checkIdempotencyKey } from '../delegation/idempotency.js';
import { traceHandleRuns, traceRootRun } from './trace-runs.js';

export type * from './runtime-api.js';

/**
 * Creates a runtime: a supervisor that spawns subagent handles, whose charts
 * own their lifecycle, and runs each input a handle gets with the run
 * strategy: your function, or the model loop (`modelRun`, or the model
 * options given here). Delegation and the root agent sit on top.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ client: new OpenAI(), model: 'gpt-4.1-mini', tools: [readFile] });
 * const { results } = await runtime.delegate({ goal: 'Summarise README.md', toolsets: ['read'] }).result;
 * console.log(results[0]?.summary);
 * await runtime.shutdown();
 * ```
 */
export function createRuntime(options: RuntimeOptions): Runtime {
  const { custom, strategy, runLimits, resolved } = checkRuntimeOptions(options);
  // Every key the runtime is given is redacted wherever text leaves it, even where it is not shaped like a key.
  const secrets = [...(options.secrets ?? []), ...(strategy?.secrets ?? [])].filter((secret) => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH);
  const logger = redactingLogger(resolveLogger(options.logger), secrets);
  // Given a logger, the clients' own logging goes through it too (where a client can make a copy of itself).
  const clients = new Map(strategy ? [...strategy.providers.keys()].map((name) => [name, providerClient(strategy, name, options.logger === undefined ? null : logger)]) : []);
  const store = options.store ?? null;
  // A run of a handle that took background results acknowledges them when it ends (after its chart wrote the conversation holding them).
  const inboxes: BackgroundInboxes = new BackgroundInboxes(store, (agent) => {
    if (agent === ROOT_AGENT) return;
    const stop = handles.listen(agent, (event) => {
      if (event.type !== 'run-end') return;
      stop();
      queueMicrotask(() => inboxes.acknowledge(agent));
    });
  });
  /** A provider's own prices over the runtime's. */
  const pricesOf = (provider: string | null) => {
    const own = provider === null ? undefined : strategy?.providers.get(provider)?.prices;
    return own ? { ...options.prices, ...own } : options.prices;
  };
  /** Fires at shutdown: ends every root-agent conversation still going. */
  const shutdownController = new AbortController();
  /** The root agent's own spend (its subagents' is in their handles). */
  const rootUsage: Usage = noUsage();
  const userTools: readonly AnyTool[] = options.tools ?? [];
  // The root agent's tools: yours plus the delegation tools (set once the runtime exists). Every handle's tools are a subset, by name.
  let rootTools: readonly AnyTool[] = createToolRegistry(userTools).tools;
  let toolsByName = new Map(rootTools.map((tool) => [tool.name, tool]));
  const toolsOf = (id: string | null): readonly AnyTool[] => {
    if (id === null) return rootTools;
    return (handles.setupOf(id)?.tools ?? []).flatMap((name) => toolsByName.get(name) ?? []);
  };

  const states = strategy ? providerStates(strategy) : new Map<string, never>();
  const { telemetry } = options;
  const local: AgentRun = custom ?? startModelRun(strategy!, { clientOf: (name) => clients.get(name)!, logger, secrets, inboxFor: (id) => inboxes.inboxFor(id), states, telemetry });
  // Names of the tools only this runtime has (the delegation tools): a handle with one runs here whatever the executor.
  let runtimeToolNames: ReadonlySet<string> = new Set();
  const { executor } = options;
  const run: AgentRun = executor && !custom
    ? executor.bind({
      local: local as RunOf<unknown>,
      mustRunLocally: (handle) => handle.setup === null || handle.setup.isolation === 'worktree' || handle.setup.tools.some((name) => runtimeToolNames.has(name)),
      logger,
      secrets,
    })
    : local;
  const worktrees = createWorktreeManager({
    directory: resolved.worktreeDir,
    logger,
    store,
    // Closing or cancelling a handle judges its worktree, whoever asked (a cascade, a delegation, shutdown).
    watch: (id, onStop) =>
      void handles.listen(id, (event) => {
        if (event.type === 'status' && (event.status === 'closed' || event.status === 'cancelled')) onStop();
      }),
  });
  /** An agent's working directory: the runtime's for the root agent; for a handle, its worktree's (once made), else its setup's. */
  const cwdOf = (id: string | null): string => (id === null ? resolved.cwd : (worktrees.cwdOf(id) ?? handles.setupOf(id)?.cwd ?? resolved.cwd));
  /** Where a run works: its setup's directory, or the same place in the handle's own worktree (made at its first run). */
  const workspace = (handle: RunHandleInfo, signal: AbortSignal) =>
    handle.setup?.isolation === 'worktree' ? worktrees.acquire(handle.id, handle.setup.cwd, signal) : (handle.setup?.cwd ?? resolved.cwd);
  const handles = createHandles({ ...options, runLimits, secrets, rootModel: strategy?.model ?? resolved.model }, {
    run,
    logger,
    runtime: () => runtime,
    toolsOf,
    workspace,
    worktreeOf: worktrees.reportOf,
    telemetry,
    rootUsage: () => rootUsage,
    priceOf: (model, provider) => pricesOf(provider ?? strategy?.defaultProvider ?? null)?.[model ?? resolved.model ?? ''] ?? null,
  });
  if (telemetry) traceHandleRuns(telemetry, handles, secrets);
  const prepareDeps: PrepareDeps = {
    handles,
    options: resolved,
    toolsOf,
    strategy,
    cwdOf,
    conversationOf: (id) => handles.conversationOf(id),
    maxConversationTokens: resolved.maxConversationTokens,
  };
  const keys = new IdempotencyKeys(store);
  /** Forgotten handles leave the store's files too: one compaction after the forgets of this turn of the event loop. */
  let compaction: NodeJS.Immediate | null = null;
  const compactSoon = () => {
    if (!store || compaction) return;
    compaction = setImmediate(() => {
      compaction = null;
      if (!store.closed) store.compact();
    });
  };
  const delegator = createDelegator({
    core: handles,
    prepare: (task, origin) => prepareChild(prepareDeps, task, origin, true),
    agentTypes: () => resolved.agentTypes,
    maxBackground: () => resolved.maxBackground,
    pricesOf,
    inboxes,
    settleWorktree: worktrees.judge,
    store,
    keys,
  });

  const runtime: Runtime = {
    actor: handles.actor,
    get limits() {
      return handles.limits;
    },
    options: resolved,
    get activeBackground() {
      return delegator.activeBackground;
    },
    spawn(spawnOptions = {}) {
      if (typeof spawnOptions !== 'object' || spawnOptions === null || Array.isArray(spawnOptions)) throw new BadArgumentError('options', 'an object', spawnOptions);
      checkSpawnOptions(spawnOptions as Record<string, unknown>, custom !== null, resolved.agentTypes);
      const { message, parentId = null, parentConversation, goal: givenGoal, idempotencyKey, ...rest } = spawnOptions;
      if (message !== undefined) requireMessage(message);
      const key = checkIdempotencyKey(idempotencyKey);
      const digest = key === null ? '' : argumentsDigest('spawn', { ...rest, message, parentId, goal: givenGoal });
      if (key !== null) {
        const first = keys.replay(parentId, key, 'spawn', digest);
        if (first?.kind === 'spawn') return first.handle;
      }
      // Every handle gets a setup, worked out like a delegated task's: a custom run reads it (tools, working directory) too.
      const goal = givenGoal ?? message ?? 'Work on the inputs you are sent.';
      const handle = handles.spawn({ ...prepareChild(prepareDeps, { ...rest, goal }, { parentId, parentConversation }, false), goal: givenGoal ?? null, message });
      if (key !== null) keys.record(parentId, key, digest, { kind: 'spawn', handle });
      return handle;
    },
    send: handles.send,
    wait: handles.wait,
    interrupt: handles.interrupt,
    cancel: handles.cancel,
    close: handles.close,
    resume: handles.resume,
    forget(id) {
      const ids = handles.forget(id);
      for (const forgotten of ids) {
        inboxes.forget(forgotten);
        void worktrees.forget(forgotten);
      }
      delegator.forget(ids);
      keys.forget(ids);
      compactSoon();
      return ids;
    },
    get: handles.get,
    list: handles.list,
    pauseSpawning: handles.pauseSpawning,
    setLimits: handles.setLimits,
    extendDeadline: handles.extendDeadline,
    subscribe: (listener) => handles.subscribe(listener),
    events: handles.events,
    approve: handles.approve,
    requestApproval: handles.requestApproval,
    delegate: delegator.delegate,
    delegation(delegationId) {
      const found = typeof delegationId === 'string' ? delegator.delegation(delegationId) : undefined;
      if (!found) return Promise.reject(new BadArgumentError('delegationId', 'the id of a delegation of this runtime', delegationId));
      return found;
    },
    taskResult: (handleId) => (typeof handleId === 'string' ? delegator.taskResult(handleId) : undefined),
    usage: (id) => ({
      ...treeUsage(handles, pricesOf, { usage: rootUsage, model: resolved.model, provider: strategy?.defaultProvider ?? null }, id),
      budget: id === undefined ? handles.rootBudget() : handles.get(id).budget,
    }),
    toolsOf,
    budget: (id) => (id === null ? handles.rootBudget() : handles.get(id).budget),
    workingDirectory(id) {
      if (id !== null) handles.get(id);
      return cwdOf(id);
    },
    async shutdown(shutdownOptions) {
      shutdownController.abort(new RuntimeShutDownError());
      const result = handles.shutdown(shutdownOptions);
      try {
        // Every handle is closed now: their worktrees are judged (removed or kept) before shutdown resolves, and recorded.
        await worktrees.judgeAll();
        await executor?.close();
      } finally {
        if (compaction) {
          clearImmediate(compaction);
          compaction = null;
          store?.compact();
        }
        store?.close();
      }
      // A store that writes behind is done once its backend acknowledged everything.
      await store?.flush?.();
      return result;
    },
    runAgent(message, agentOptions) {
      try {
        requireMessage(message);
        if (shutdownController.signal.aborted) throw new RuntimeShutDownError();
        if (!strategy) throw new BadArgumentError('run', 'a model run (`client` and `model`, or modelRun()) to run the root agent', 'a custom run function');
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      // The root agent is on the default provider, with its settings and its shared state (request slots, Retry-After pause).
      const provider = strategy.providers.get(strategy.defaultProvider);
      const converse = () => runParentAgent(
        {
          client: clients.get(strategy.defaultProvider)!,
          cwd: resolved.cwd,
          maxConversationTokens: resolved.maxConversationTokens,
          provider: states.get(strategy.defaultProvider),
          echoReasoning: provider?.echoReasoning ?? true,
          logger,
          model: strategy.model,
          tools: rootTools,
          inbox: inboxes.inboxFor(ROOT_AGENT),
          maxIterations: resolved.maxIterations,
          stream: provider?.stream ?? strategy.stream,
          requestOptions: provider?.requestOptions ? { ...strategy.requestOptions, ...provider.requestOptions } : strategy.requestOptions,
          maxRetries: strategy.maxRetries,
          allowMissingFinishReason: strategy.allowMissingFinishReason,
          secrets,
          shutdownSignal: shutdownController.signal,
          requestApproval: (ask, signal) => handles.requestApproval(null, ask, signal),
          onUsage: (usage) => void addUsage(rootUsage, usage),
          tokensLeft: handles.rootTokensLeft,
          deadline: handles.deadlineOf(null),
          telemetry,
        },
        message,
        agentOptions,
      );
      // The root agent's conversation ends with its call: what it took from its inbox is acknowledged then.
      const answer = telemetry ? traceRootRun(telemetry, { model: strategy.model, input: message }, converse) : converse();
      return answer.finally(() => inboxes.acknowledge(ROOT_AGENT));
    },
  };
  // Internal: not enumerable, so a runtime logged or spread does not carry the supervisor actor.
  Object.defineProperty(runtime, 'actor', { enumerable: false });
  Object.defineProperty(runtime, 'requestApproval', { enumerable: false });
  if (telemetry) registerTelemetry(runtime, telemetry);
  const agentTools = createAgentTools(runtime);
  runtimeToolNames = new Set(agentTools.map((tool) => tool.name));
  rootTools = createToolRegistry([...userTools, ...agentTools]).tools;
  toolsByName = new Map(rootTools.map((tool) => [tool.name, tool]));
  // A store with content: the handles are back; their delegations and deliveries follow, then restored work goes on.
  const restored = handles.takeRestored();
  if (restored) {
    keys.restore(restored, (id) => handles.contextOf(id) !== undefined);
    delegator.restore(restored);
    // Worktrees of handles not restored are pruned; the rest are theirs again (shutdown waits for this).
    void worktrees.restore(restored, (id) => {
      if (!handles.contextOf(id)) return null;
      const { status } = handles.get(id);
      return { stopped: status === 'closed' || status === 'cancelled' };
    });
  }
  handles.startRestored();
  return runtime;
}

/** The options `spawn` takes. */
const SPAWN_KEYS = [
  'message', 'name', 'parentId', 'role', 'agentType', 'model', 'provider', 'goal', 'context', 'toolsets', 'cwd', 'isolation', 'contextMode', 'parentConversation', 'idempotencyKey', 'budget', 'onParentStop',
] as const;

/** The spawn options whose type the handle API does not check itself; the same whatever the run. */
function checkSpawnOptions(options: Record<string, unknown>, custom: boolean, agentTypes: ResolvedOptions['agentTypes']): void {
  rejectUnknownKeys(options, SPAWN_KEYS);
  checkBudget(options.budget, 'budget');
  optionalStringArray(options.toolsets, 'toolsets');
  if (typeof options.agentType === 'string') resolveAgentType(options.agentType, agentTypes, 'agentType');
  if (custom && options.provider !== undefined) {
    throw new BadArgumentError('provider', 'left out: this runtime runs your own `run` function, which has no providers', options.provider);
  }
  if (options.role !== undefined && options.role !== 'leaf' && options.role !== 'orchestrator') {
    throw new BadArgumentError('role', "'leaf' or 'orchestrator'", options.role);
  }
  if (options.isolation !== undefined && options.isolation !== 'none' && options.isolation !== 'worktree') {
    throw new BadArgumentError('isolation', "'none' or 'worktree'", options.isolation);
  }
  if (options.contextMode !== undefined && !contextModeSchema().safeParse(options.contextMode).success) {
    throw new BadArgumentError('contextMode', "'fresh', 'fork' or { lastMessages: n } with an integer n >= 1", options.contextMode);
  }
  if (options.parentConversation !== undefined && !Array.isArray(options.parentConversation)) {
    throw new BadArgumentError('parentConversation', 'an array of chat messages', options.parentConversation);
  }
  for (const field of ['agentType', 'model', 'goal', 'provider', 'context', 'cwd'] as const) {
    const value = options[field];
    if (value !== undefined && value !== null && typeof value !== 'string') throw new BadArgumentError(field, 'a string', value);
  }
}
