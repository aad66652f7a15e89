import { nanoid } from 'nanoid';
import type OpenAI from 'openai';
import { redactingLogger, resolveLogger } from './logger.js';
import { BadArgumentError, RuntimeShutDownError } from '../errors.js';
import { createAgentTools } from '../tools/agent-tools.js';
import type { AnyTool } from '../tools/define-tool.js';
import { defineAgentType, resolveAgentType } from '../tools/agent-types.js';
import type { AgentType } from '../tools/agent-types.js';
import { DEFAULT_BLOCKED_TOOLS, createToolRegistry, resolveChildTools } from '../tools/toolsets.js';
import type { HandleSnapshot, Role, Usage } from '../types.js';
import { createModelRun } from './child-run.js';
import type { ChildSetup } from './child-run.js';
import { costOf, createDelegator } from './delegation.js';
import type { PreparedChild } from './delegation.js';
import type { DelegateTask } from './delegation-types.js';
import { BackgroundInboxes, ROOT_AGENT } from './inbox.js';
import { runParentAgent } from './parent-agent.js';
import { buildChildSystemPrompt } from './prompts.js';
import { createCoreRuntime, validateCoreOptions } from './runtime.js';
import type { ResolvedOptions, RuntimeOptions, SubagentsRuntime } from './runtime-types.js';
import { optionalStringArray, requireMessage } from './validate.js';
import { subtreeOf } from '../machines/supervisor.js';

export type { ModelSpawnOptions, RuntimeOptions, SubagentsRuntime } from './runtime-types.js';

function positiveInteger(name: string, value: unknown, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw new BadArgumentError(name, `an integer >= ${minimum}`, value);
  }
  return value;
}

function optionalType(value: unknown, name: string, type: 'string' | 'boolean' | 'object'): void {
  if (value === undefined) return;
  const ok = type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value) : typeof value === type;
  if (!ok) throw new BadArgumentError(name, type === 'object' ? 'a plain object' : `a ${type}`, value);
}

/** Checks every option of createRuntime; throws a typed error naming the first bad one. */
function validateOptions(options: RuntimeOptions): void {
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
  (options.agentTypes ?? []).forEach((agentType: unknown, index) => {
    if (typeof agentType !== 'object' || agentType === null) throw new BadArgumentError(`agentTypes[${index}]`, 'an agent type from defineAgentType()', agentType);
    defineAgentType(agentType as AgentType);
  });
  optionalStringArray(options.blockedTools, 'blockedTools');
  if (options.run !== undefined && typeof options.run !== 'function') throw new BadArgumentError('run', 'a function (input, context) => Promise<output>', options.run);
  if (!options.run && (typeof options.client !== 'object' || options.client === null)) {
    throw new BadArgumentError('client', 'an OpenAI client (or a `run` function)', options.client);
  }
  if (!options.run && (typeof options.model !== 'string' || options.model.trim() === '')) {
    throw new BadArgumentError('model', 'a model name string', options.model);
  }
  if (options.model !== undefined && typeof options.model !== 'string') throw new BadArgumentError('model', 'a model name string', options.model);
  optionalType(options.workspacePath, 'workspacePath', 'string');
  optionalType(options.stream, 'stream', 'boolean');
  optionalType(options.allowMissingFinishReason, 'allowMissingFinishReason', 'boolean');
  optionalType(options.requestOptions, 'requestOptions', 'object');
  optionalType(options.prices, 'prices', 'object');
  for (const [model, price] of Object.entries(options.prices ?? {})) {
    const valid = typeof price === 'object' && price !== null && Number.isFinite(price.inputPerMillion) && Number.isFinite(price.outputPerMillion);
    if (!valid) throw new BadArgumentError(`prices.${model}`, 'an object { inputPerMillion, outputPerMillion } of finite numbers', price);
  }
}

/**
 * Creates a runtime whose subagents run on an OpenAI-compatible model with
 * your tools, and that can delegate single tasks or batches to them.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ client: new OpenAI(), model: 'gpt-4.1-mini', tools: [readFile] });
 * const { results } = await runtime.delegate({ goal: 'Summarise README.md', toolsets: ['read'] }).result;
 * console.log(results[0]?.summary);
 * await runtime.shutdown();
 * ```
 */
export function createRuntime(options: RuntimeOptions): SubagentsRuntime {
  if (typeof options !== 'object' || options === null) {
    throw new BadArgumentError('options', 'an object with `client` and `model` (or `run`)', options);
  }
  validateOptions(options);
  validateCoreOptions(options);
  const resolved: ResolvedOptions = {
    model: options.model ?? null,
    maxIterations: positiveInteger('maxIterations', options.maxIterations, 50),
    maxBackground: positiveInteger('maxBackground', options.maxBackground, 3),
    maxBatchSize: options.maxBatchSize === undefined ? undefined : positiveInteger('maxBatchSize', options.maxBatchSize, 1),
    blockedTools: options.blockedTools ?? DEFAULT_BLOCKED_TOOLS,
    agentTypes: options.agentTypes ?? [],
    workspacePath: options.workspacePath ?? null,
  };
  const maxRetries = positiveInteger('maxRetries', options.maxRetries, 2, 0);
  const userTools: readonly AnyTool[] = options.tools ?? [];
  // The root agent's tools: yours plus the delegation tools (set once the runtime exists).
  let rootTools: readonly AnyTool[] = createToolRegistry(userTools).tools;
  const setups = new Map<string, ChildSetup>();
  const inboxes = new BackgroundInboxes();
  /** Fires at shutdown: ends every root-agent conversation still going. */
  const shutdownController = new AbortController();
  /** The root agent's own spend (its subagents' is in their handles). */
  const rootUsage: Usage = { inputTokens: 0, outputTokens: 0 };

  // Every key the runtime is given is redacted wherever text leaves it, even where it is not shaped like a key.
  const apiKey = (options.client as { apiKey?: unknown } | undefined)?.apiKey;
  const secrets = [...(options.secrets ?? []), ...(typeof apiKey === 'string' && apiKey.length >= 4 ? [apiKey] : [])];
  const logger = redactingLogger(resolveLogger(options.logger), secrets);
  // Given a logger, the client's own logging goes through it too (where the client can make a copy of itself).
  const client = options.logger !== undefined && options.client && typeof (options.client as { withOptions?: unknown }).withOptions === 'function'
    ? (options.client as OpenAI).withOptions({ logger })
    : options.client;
  const run =
    options.run ??
    createModelRun({
      client: client!,
      logger,
      setupOf: (id) => setups.get(id),
      stream: options.stream,
      requestOptions: options.requestOptions,
      maxRetries,
      allowMissingFinishReason: options.allowMissingFinishReason,
      secrets,
      inboxFor: (id) => inboxes.inboxFor(id),
    });
  const core = createCoreRuntime({ ...options, run, secrets });

  const toolsOf = (id: string | null): readonly AnyTool[] => (id === null ? rootTools : (setups.get(id)?.tools ?? []));

  /** Works out a child's tools, prompt and model from its task; throws before anything is spawned. */
  function prepare(task: DelegateTask, parentId: string | null): PreparedChild {
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
      },
    };
  }

  function spawnPrepared(prepared: PreparedChild, delegated: boolean, message?: string): HandleSnapshot {
    const id = prepared.spawn.name ?? `sa_${nanoid(10)}`;
    // A refused spawn (a name in use, say) must leave the existing handle's setup alone.
    const previous = setups.get(id);
    setups.set(id, prepared.setup);
    try {
      return core.spawnWith({ ...prepared.spawn, name: id, ...(message !== undefined ? { message } : {}) }, { delegated });
    } catch (error) {
      if (previous) setups.set(id, previous);
      else setups.delete(id);
      throw error;
    }
  }

  const delegator = createDelegator({
    core,
    prepare,
    spawnPrepared: (prepared, delegated) => void spawnPrepared(prepared, delegated),
    setupOf: (id) => setups.get(id),
    agentTypes: () => resolved.agentTypes,
    maxBackground: () => resolved.maxBackground,
    prices: options.prices,
    inboxes,
  });

  /** The handle and its descendants. */
  const membersOf = (id: string): string[] => subtreeOf(core.actor.getSnapshot().context, id);

  const runtime: SubagentsRuntime = {
    ...core,
    get limits() {
      return core.limits;
    },
    options: resolved,
    get activeBackground() {
      return delegator.activeBackground;
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
      return spawnPrepared(prepared, false, message);
    },
    delegate: delegator.delegate,
    forget(id) {
      const ids = core.forget(id);
      for (const forgotten of ids) {
        setups.delete(forgotten);
        inboxes.forget(forgotten);
      }
      return ids;
    },
    delegation(delegationId) {
      const found = typeof delegationId === 'string' ? delegator.delegation(delegationId) : undefined;
      if (!found) return Promise.reject(new BadArgumentError('delegationId', 'the id of a delegation of this runtime', delegationId));
      return found;
    },
    usage(id) {
      const roots = id === undefined ? core.list({ parentId: null }).map((handle) => handle.id) : [id];
      // Without an id: everything, the root agent's own spend included.
      const own: Usage = id === undefined ? { ...rootUsage } : { ...core.get(id).usage };
      const total: Usage = { ...own };
      let cost: number | null = id === undefined ? costOf(options.prices, resolved.model, rootUsage) : null;
      for (const member of roots.flatMap(membersOf)) {
        const handle = core.get(member);
        if (member !== id) {
          total.inputTokens += handle.usage.inputTokens;
          total.outputTokens += handle.usage.outputTokens;
        }
        const handleCost = costOf(options.prices, handle.model, handle.usage);
        if (handleCost !== null) cost = (cost ?? 0) + handleCost;
      }
      return { own, total, cost };
    },
    toolsOf,
    async shutdown() {
      shutdownController.abort(new RuntimeShutDownError());
      return core.shutdown();
    },
    runAgent(message, agentOptions) {
      try {
        requireMessage(message);
        if (shutdownController.signal.aborted) throw new RuntimeShutDownError();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (!options.client) {
        return Promise.reject(new BadArgumentError('client', 'an OpenAI client given to createRuntime() to run the root agent', options.client));
      }
      if (!resolved.model) {
        return Promise.reject(new BadArgumentError('model', 'a model name given to createRuntime() to run the root agent', options.model));
      }
      return runParentAgent(
        {
          client: client ?? options.client,
          logger,
          model: resolved.model,
          tools: rootTools,
          inbox: inboxes.inboxFor(ROOT_AGENT),
          maxIterations: resolved.maxIterations,
          stream: options.stream ?? true,
          requestOptions: options.requestOptions,
          maxRetries,
          allowMissingFinishReason: options.allowMissingFinishReason,
          secrets,
          shutdownSignal: shutdownController.signal,
          onUsage: (usage) => {
            rootUsage.inputTokens += usage.inputTokens;
            rootUsage.outputTokens += usage.outputTokens;
          },
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
