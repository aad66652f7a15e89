import { nanoid } from 'nanoid';
import { BackgroundLimitError, BadArgumentError } from '../errors.js';
import { spawnRefusal, subtreeOf } from '../machines/supervisor.js';
import { createAgentTools } from '../tools/agent-tools.js';
import type { AnyTool } from '../tools/define-tool.js';
import { resolveAgentType } from '../tools/agent-types.js';
import type { AgentType } from '../tools/agent-types.js';
import { DEFAULT_BLOCKED_TOOLS, createToolRegistry, resolveChildTools } from '../tools/toolsets.js';
import type { HandleSnapshot, Role, Usage } from '../types.js';
import { createModelRun } from './child-run.js';
import type { ChildRunDetails, ChildSetup } from './child-run.js';
import type {
  BackgroundDelegation,
  DelegateRequest,
  DelegateTask,
  DelegationOutcome,
  DelegationResult,
  ExitReason,
  ModelPrices,
} from './delegation-types.js';
import type { RuntimeEvent } from './events.js';
import type { ChatClient } from './model-loop.js';
import { BackgroundInboxes, ROOT_AGENT } from './inbox.js';
import { runParentAgent } from './parent-agent.js';
import type { AgentAnswer, AgentOptions } from './parent-agent.js';
import { buildChildSystemPrompt } from './prompts.js';
import { createCoreRuntime } from './runtime.js';
import type { AgentRun, CoreRuntime, CoreRuntimeOptions, HandleWatcher, SpawnOptions } from './runtime.js';
import { normaliseDelegateRequest } from './validate-delegation.js';
import { optionalStringArray, requireMessage, requireTimeout } from './validate.js';

export interface RuntimeOptions extends Omit<CoreRuntimeOptions, 'run'> {
  /** An `openai` client (any OpenAI-compatible base URL). Required unless `run` is given. */
  client?: ChatClient;
  /** The default model. Required with `client`. */
  model?: string;
  /** The root agent's tools; children get subsets of them. @default [] */
  tools?: readonly AnyTool[];
  /** Replaces the model loop with your own run (tests, non-LLM work). */
  run?: AgentRun;
  /** Tools no child ever gets. @default ['delegate_task', 'clarify', 'memory', 'send_message', 'execute_code'] */
  blockedTools?: readonly string[];
  /** Agent types beside `general`, `explore`, `plan` and `verify`. */
  agentTypes?: readonly AgentType[];
  /** Cap on model calls per run, on top of each agent type's own. @default 50 */
  maxIterations?: number;
  /** A run longer than this ends with exit reason `timeout`. @default none */
  childTimeoutMs?: number;
  /** A run with no model or tool progress for this long ends with exit reason `timeout`. @default none */
  staleTimeoutMs?: number;
  /** Tokens (input + output) one run may spend; past it the run is stopped with an error. @default none */
  maxRunTokens?: number;
  /** Background delegations in flight at once; more are refused. @default 3 */
  maxBackground?: number;
  /** Most tasks one `delegate_task` call may carry. @default maxConcurrentChildren */
  maxBatchSize?: number;
  /** Prices per model, for cost in results. */
  prices?: ModelPrices;
  /** A directory children work in; told to them in their prompt. */
  workspacePath?: string;
  /** Stream model responses. @default true */
  stream?: boolean;
  /** Extra fields for every chat completion request (temperature, …). */
  requestOptions?: Record<string, unknown>;
}

/** Spawn options for a model-backed handle. */
export interface ModelSpawnOptions extends SpawnOptions {
  context?: string;
  toolsets?: string[];
}

/** The runtime with delegation on top of the handle API. */
export interface SubagentsRuntime extends Omit<CoreRuntime, 'spawn'> {
  spawn(options?: ModelSpawnOptions): HandleSnapshot;
  delegate(request: DelegateRequest & { background: true }): BackgroundDelegation;
  delegate(request: DelegateRequest & { background?: false }): Promise<DelegationOutcome>;
  delegate(request: DelegateRequest): Promise<DelegationOutcome> | BackgroundDelegation;
  /** The result of a delegation by id (background or not), once it is complete. */
  delegation(delegationId: string): Promise<DelegationOutcome>;
  /** Background delegations still in flight. */
  readonly activeBackground: number;
  /** Tokens and cost of a handle and its descendants, or of everything when no id is given. */
  usage(id?: string): { own: Usage; total: Usage; cost: number | null };
  /** The tools of a handle (or of the root agent). */
  toolsOf(id: string | null): readonly AnyTool[];
  /**
   * Runs the root agent (depth 0) on a user message: it has your tools and the
   * delegation tools, delegates, gets its subagents' results back, and answers.
   * Results of its background delegations re-enter its conversation when they arrive.
   */
  runAgent(message: string, options?: AgentOptions): Promise<AgentAnswer>;
  readonly options: Readonly<ResolvedOptions>;
}

interface ResolvedOptions {
  model: string | null;
  maxIterations: number;
  maxBackground: number;
  /** `undefined`: follows maxConcurrentChildren. */
  maxBatchSize: number | undefined;
  blockedTools: readonly string[];
  agentTypes: readonly AgentType[];
  workspacePath: string | null;
}

type RunEnd = Extract<RuntimeEvent, { type: 'run-end' }>;

const MAX_REMEMBERED_DELEGATIONS = 1000;

/** The end of a task whose child was stopped before its run started. */
function neverStarted(event: Extract<RuntimeEvent, { type: 'handle-update' }>): RunEnd {
  const { type: _type, handle, previousStatus: _previous, ...ref } = event;
  return {
    ...ref,
    type: 'run-end',
    runId: 0,
    outcome: handle.status === 'interrupted' ? 'interrupted' : 'cancelled',
    output: null,
    error: `The subagent was ${handle.status} before it started its task.`,
    details: undefined,
    stats: { apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model: handle.model, startedAt: performance.now() },
    durationMs: 0,
  };
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new BadArgumentError(name, 'an integer >= 1', value);
  }
  return value;
}

function costOf(prices: ModelPrices | undefined, model: string | null, usage: Usage): number | null {
  const price = model ? prices?.[model] : undefined;
  if (!price) return null;
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
}

const addUsage = (into: Usage, usage: Usage) => {
  into.inputTokens += usage.inputTokens;
  into.outputTokens += usage.outputTokens;
};

/**
 * Creates a runtime whose subagents run on an OpenAI-compatible model with
 * your tools, and that can delegate single tasks or batches to them.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ client: new OpenAI(), model: 'gpt-4.1-mini', tools: [readFile] });
 * const { results } = await runtime.delegate({ goal: 'Summarise README.md', toolsets: ['read'] });
 * console.log(results[0]?.summary);
 * await runtime.shutdown();
 * ```
 */
export function createRuntime(options: RuntimeOptions): SubagentsRuntime {
  if (typeof options !== 'object' || options === null) {
    throw new BadArgumentError('options', 'an object with `client` and `model` (or `run`)', options);
  }
  if (options.tools !== undefined && !Array.isArray(options.tools)) throw new BadArgumentError('tools', 'an array of tools from defineTool()', options.tools);
  (options.tools ?? []).forEach((tool: unknown, index) => {
    const candidate = tool as Partial<AnyTool> | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.name !== 'string' || typeof candidate.execute !== 'function' || typeof candidate.jsonSchema !== 'object') {
      throw new BadArgumentError(`tools[${index}]`, 'a tool made with defineTool()', tool);
    }
  });
  if (options.agentTypes !== undefined && !Array.isArray(options.agentTypes)) {
    throw new BadArgumentError('agentTypes', 'an array of agent types from defineAgentType()', options.agentTypes);
  }
  optionalStringArray(options.blockedTools, 'blockedTools');
  if (!options.run && !options.client) {
    throw new BadArgumentError('client', 'an OpenAI client (or a `run` function)', options.client);
  }
  if (!options.run && (typeof options.model !== 'string' || options.model.trim() === '')) {
    throw new BadArgumentError('model', 'a model name string', options.model);
  }
  if (options.childTimeoutMs !== undefined) requireTimeout(options.childTimeoutMs, 'childTimeoutMs');
  if (options.staleTimeoutMs !== undefined) requireTimeout(options.staleTimeoutMs, 'staleTimeoutMs');
  const resolved: ResolvedOptions = {
    model: options.model ?? null,
    maxIterations: positiveInteger('maxIterations', options.maxIterations, 50),
    maxBackground: positiveInteger('maxBackground', options.maxBackground, 3),
    maxBatchSize: options.maxBatchSize === undefined ? undefined : positiveInteger('maxBatchSize', options.maxBatchSize, 1),
    blockedTools: options.blockedTools ?? DEFAULT_BLOCKED_TOOLS,
    agentTypes: options.agentTypes ?? [],
    workspacePath: options.workspacePath ?? null,
  };
  const userTools: readonly AnyTool[] = options.tools ?? [];
  // The root agent's tools: yours plus the delegation tools (set once the runtime exists).
  let rootTools: readonly AnyTool[] = createToolRegistry(userTools).tools;
  const setups = new Map<string, ChildSetup>();
  const delegations = new Map<string, Promise<DelegationOutcome>>();
  /** Keeps the most recent delegations for `delegation(id)`: a long-lived runtime must not keep them all. */
  const remember = (id: string, outcome: Promise<DelegationOutcome>) => {
    delegations.set(id, outcome);
    if (delegations.size > MAX_REMEMBERED_DELEGATIONS) delegations.delete(delegations.keys().next().value!);
  };
  const inboxes = new BackgroundInboxes();
  let activeBackground = 0;

  const run =
    options.run ??
    createModelRun({
      client: options.client!,
      setupOf: (id) => setups.get(id),
      childTimeoutMs: options.childTimeoutMs,
      staleTimeoutMs: options.staleTimeoutMs,
      maxRunTokens: options.maxRunTokens === undefined ? undefined : positiveInteger('maxRunTokens', options.maxRunTokens, 1),
      stream: options.stream,
      requestOptions: options.requestOptions,
      inboxFor: (id) => inboxes.inboxFor(id),
    });
  // The client's key is redacted from inspection output even where it is not shaped like a key.
  const apiKey = (options.client as { apiKey?: unknown } | undefined)?.apiKey;
  const secrets = [...(options.inspection?.secrets ?? []), ...(typeof apiKey === 'string' && apiKey.length >= 4 ? [apiKey] : [])];
  const core = createCoreRuntime({ ...options, run, inspection: { ...options.inspection, secrets } });

  const toolsOf = (id: string | null): readonly AnyTool[] => (id === null ? rootTools : (setups.get(id)?.tools ?? []));

  /** Works out a child's tools, prompt and model from its task; throws before anything is spawned. */
  function prepare(task: DelegateTask, parentId: string | null): { spawn: ModelSpawnOptions; setup: ChildSetup } {
    const agentType = resolveAgentType(task.agentType ?? 'general', resolved.agentTypes);
    const parentDepth = parentId === null ? 0 : core.get(parentId).depth;
    const depth = parentDepth + 1;
    const maxSpawnDepth = core.limits.maxSpawnDepth;
    const wantsOrchestrator = task.role === 'orchestrator';
    const canDelegate = wantsOrchestrator && depth < maxSpawnDepth;
    const role: Role = canDelegate ? 'orchestrator' : 'leaf';
    const child = resolveChildTools({
      parentTools: toolsOf(parentId),
      requestedToolsets: task.toolsets,
      blockedTools: resolved.blockedTools,
      allowlist: agentType.allowedToolsets,
      allowDelegation: canDelegate,
    });
    const degradedToLeaf = wantsOrchestrator && !canDelegate;
    const systemPrompt = buildChildSystemPrompt({
      goal: task.goal,
      context: task.context,
      workspacePath: resolved.workspacePath ?? undefined,
      agentType,
      role,
      depth,
      maxSpawnDepth,
      deniedToolsets: child.deniedToolsets,
      degradedFromOrchestrator: degradedToLeaf,
    });
    const model = task.model ?? resolved.model ?? 'custom';
    return {
      spawn: { parentId, role, agentType: agentType.name, model, goal: task.goal },
      setup: {
        systemPrompt,
        tools: child.tools,
        model,
        maxIterations: Math.min(agentType.maxIterations, resolved.maxIterations),
        deniedToolsets: child.deniedToolsets,
        degradedToLeaf,
        history: [],
      },
    };
  }

  function spawnPrepared(prepared: { spawn: ModelSpawnOptions; setup: ChildSetup }, message?: string): HandleSnapshot {
    const id = prepared.spawn.name ?? `sa_${nanoid(10)}`;
    // A refused spawn (a name in use, say) must leave the existing handle's setup alone.
    const previous = setups.get(id);
    setups.set(id, prepared.setup);
    try {
      return core.spawn({ ...prepared.spawn, name: id, ...(message !== undefined ? { message } : {}) });
    } catch (error) {
      if (previous) setups.set(id, previous);
      else setups.delete(id);
      throw error;
    }
  }

  /** The handle and its descendants. */
  const membersOf = (id: string): string[] => subtreeOf(core.actor.getSnapshot().context, id);


  function resultOf(
    taskIndex: number,
    task: DelegateTask,
    handleId: string,
    end: RunEnd,
  ): DelegationResult {
    const setup = setups.get(handleId);
    const details = end.details as ChildRunDetails | undefined;
    const exitReason: ExitReason =
      end.outcome === 'completed'
        ? (details?.exitReason ?? 'completed')
        : end.outcome === 'cancelled'
          ? 'interrupted'
          : end.outcome;
    // The child's own run plus whatever its descendants spent.
    const tokens: Usage = { ...end.stats.usage };
    for (const member of membersOf(handleId)) if (member !== handleId) addUsage(tokens, core.get(member).usage);
    const model = setup?.model ?? end.model ?? 'custom';
    return {
      taskIndex,
      handleId,
      goal: task.goal,
      status: end.outcome,
      summary:
        end.outcome === 'completed'
          ? (end.output ?? '')
          : (end.error ?? (end.outcome === 'interrupted' ? 'The subagent was interrupted before it finished.' : 'The subagent was cancelled before it finished.')),
      exitReason,
      apiCalls: end.stats.apiCalls,
      durationMs: Math.round(end.durationMs),
      tokens: { input: tokens.inputTokens, output: tokens.outputTokens, total: tokens.inputTokens + tokens.outputTokens },
      cost: costOf(options.prices, model, tokens),
      toolTrace: end.stats.toolTrace,
      model,
      deniedToolsets: setup?.deniedToolsets ?? [],
      degradedToLeaf: setup?.degradedToLeaf ?? false,
      error: end.outcome === 'completed' ? null : end.error,
    };
  }

  function delegate(request: DelegateRequest): Promise<DelegationOutcome> | BackgroundDelegation {
    const { tasks, background, parentId } = normaliseDelegateRequest(request);
    const refusal = spawnRefusal(core.actor.getSnapshot().context, { id: '\u0000probe', parentId });
    if (refusal) throw refusal;
    if (background && activeBackground >= resolved.maxBackground) {
      throw new BackgroundLimitError(activeBackground, resolved.maxBackground);
    }
    const prepared = tasks.map((task) => prepare(task, parentId));
    const delegationId = `dg_${nanoid(10)}`;
    const ids = prepared.map(() => `sa_${nanoid(10)}`);
    const pending = new Map<string, (end: RunEnd) => void>();
    const ends = ids.map((id) => new Promise<RunEnd>((resolve) => pending.set(id, resolve)));
    const started = new Set<string>();
    const unwatchers: Array<() => void> = [];
    const settle = (id: string, end: RunEnd) => {
      const resolve = pending.get(id);
      if (!resolve) return;
      pending.delete(id);
      resolve(end);
      if (pending.size === 0) for (const unwatch of unwatchers) unwatch();
    };
    // Each child's first run is its task: its end is the result. A child
    // stopped while it still waited for a slot never starts a run; its task
    // ends there too, so no delegation waits forever.
    const watcher = (id: string) => (event: Parameters<HandleWatcher>[0]) => {
      if (event.type === 'run-start') started.add(id);
      else if (event.type === 'run-end') settle(id, event);
      else if (event.previousStatus === 'running' && event.handle.status !== 'running' && !started.has(id)) {
        settle(id, neverStarted(event));
      }
    };
    const spawned: string[] = [];
    try {
      prepared.forEach((child, index) => {
        const task = tasks[index]!;
        const id = ids[index]!;
        child.spawn.name = id;
        // Watch from the first transition on: spawn, then send, so nothing is missed.
        spawnPrepared(child);
        unwatchers.push(core.watch(id, watcher(id)));
        spawned.push(id);
        core.send(id, task.goal);
      });
    } catch (error) {
      // Nothing half-done is left behind: children already started are cancelled.
      for (const unwatch of unwatchers) unwatch();
      for (const id of spawned) core.cancel(id);
      throw error;
    }
    const result = Promise.all(ends).then((events): DelegationOutcome => {
      const outcome: DelegationOutcome = {
        delegationId,
        parentId,
        background,
        results: events.map((end, index) => resultOf(index, tasks[index]!, ids[index]!, end)),
      };
      return outcome;
    });
    // Only delegations an agent started from its tools come back into its conversation.
    const agent = background && request.deliverToAgent ? (parentId ?? ROOT_AGENT) : null;
    const delivered = result
      .finally(() => {
        if (background) activeBackground -= 1;
      })
      .then((outcome) => {
        if (agent !== null) inboxes.delivered(agent, outcome);
        core.emit({ type: 'delegation-end', delegationId, background, parentId, results: outcome.results });
        return outcome;
      });
    remember(delegationId, delivered);
    if (!background) return delivered;
    activeBackground += 1;
    if (agent !== null) inboxes.started(agent, delegationId);
    return { delegationId, handleIds: ids, result: delivered };
  }

  const runtime: SubagentsRuntime = {
    ...core,
    get limits() {
      return core.limits;
    },
    options: resolved,
    get activeBackground() {
      return activeBackground;
    },
    spawn(spawnOptions = {}) {
      if (options.run) return core.spawn(spawnOptions);
      const { context, toolsets, message, ...rest } = spawnOptions;
      const goal = spawnOptions.goal ?? message ?? 'Work on the inputs you are sent.';
      const prepared = prepare(
        { goal, ...(context !== undefined ? { context } : {}), ...(toolsets !== undefined ? { toolsets } : {}), role: rest.role ?? 'leaf', agentType: rest.agentType ?? 'general', ...(rest.model ? { model: rest.model } : {}) },
        rest.parentId ?? null,
      );
      if (rest.name !== undefined) prepared.spawn.name = rest.name;
      return spawnPrepared(prepared, message);
    },
    delegate: delegate as SubagentsRuntime['delegate'],
    forget(id) {
      const ids = core.forget(id);
      for (const forgotten of ids) {
        setups.delete(forgotten);
        inboxes.forget(forgotten);
      }
      return ids;
    },
    delegation(delegationId) {
      const found = typeof delegationId === 'string' ? delegations.get(delegationId) : undefined;
      if (!found) return Promise.reject(new BadArgumentError('delegationId', 'the id of a delegation of this runtime', delegationId));
      return found;
    },
    usage(id) {
      const roots = id === undefined ? core.list({ parentId: null }).map((handle) => handle.id) : [id];
      const own: Usage = id === undefined ? { inputTokens: 0, outputTokens: 0 } : { ...core.get(id).usage };
      const total: Usage = { inputTokens: 0, outputTokens: 0 };
      let cost: number | null = null;
      for (const member of roots.flatMap(membersOf)) {
        const handle = core.get(member);
        addUsage(total, handle.usage);
        const handleCost = costOf(options.prices, handle.model, handle.usage);
        if (handleCost !== null) cost = (cost ?? 0) + handleCost;
      }
      return { own, total, cost };
    },
    toolsOf,
    runAgent(message, agentOptions) {
      try {
        requireMessage(message);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (!options.client || !resolved.model) {
        return Promise.reject(new BadArgumentError('client', 'an OpenAI client and model given to createRuntime() to run the root agent', options.client));
      }
      return runParentAgent(
        {
          client: options.client,
          model: resolved.model,
          tools: rootTools,
          inbox: inboxes.inboxFor(ROOT_AGENT),
          maxIterations: resolved.maxIterations,
          stream: options.stream ?? true,
          requestOptions: options.requestOptions,
        },
        message,
        agentOptions,
      );
    },
  };
  const agentTools: readonly AnyTool[] = createAgentTools(runtime);
  rootTools = createToolRegistry([...userTools, ...agentTools]).tools;
  return runtime;
}
