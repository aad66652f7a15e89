import { BadArgumentError } from '../errors.js';
import { resolveAgentType } from './agent-types.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import { resolveChildTools } from '../toolkit/toolsets.js';
import type { Budget, ChatMessage, Isolation, OnParentStop, Role } from '../types.js';
import { inheritedMessages } from './context-mode.js';
import type { ContextMode } from './context-mode.js';
import { childWorkingDirectory } from './working-directory.js';
import type { ModelRun } from '../runtime/model-run.js';
import { buildChildSystemPrompt } from './prompts.js';
import type { HandleApi, HandleSpawn } from '../runtime/runtime-types.js';
import type { ResolvedOptions } from './delegating-runtime.js';

/** A child as a caller describes it: a task of a delegation, or a spawn. */
export interface ChildRequest {
  goal: string;
  context?: string | undefined;
  toolsets?: string[] | undefined;
  role?: Role | undefined;
  agentType?: string | undefined;
  model?: string | null | undefined;
  provider?: string | undefined;
  name?: string | undefined;
  cwd?: string | undefined;
  isolation?: Isolation | undefined;
  contextMode?: ContextMode | undefined;
  budget?: Budget | undefined;
  /** @default the agent type's, else 'cascade' */
  onParentStop?: OnParentStop | undefined;
}

/** Where a child is asked for: by which parent, and with which of its conversation (to fork). */
export interface ChildOrigin {
  parentId: string | null;
  /** The parent's conversation up to the call that asks for the child; `undefined`: the parent handle's own, if any. */
  parentConversation?: readonly ChatMessage[] | undefined;
  /** How the request names its fields in errors: `''` for a single task, `tasks[1].` in a batch, the tool's names for the model. */
  fieldPrefix?: string;
}

export interface PrepareDeps {
  handles: Pick<HandleApi, 'depthOf' | 'limits'>;
  options: ResolvedOptions;
  /** The tools a parent has (`null`: the root agent). */
  toolsOf(parentId: string | null): readonly AnyTool[];
  /** The model run, if the runtime has one: its providers and default model. */
  strategy: ModelRun | null;
  /** The working directory of a parent (`null`: the root agent): a child's lies inside it. */
  cwdOf(parentId: string | null): string;
  /** A parent handle's conversation so far (its runs' and the complete turns of the run in flight). */
  conversationOf(parentId: string): readonly ChatMessage[];
  /** Estimated tokens a request may carry, unless the agent type says otherwise. `null`: no bound. */
  maxConversationTokens: number | null;
}

/**
 * Works out a child's setup from its request: its agent type, its tools (a
 * subset of its parent's), its role (an orchestrator asked for at the depth
 * limit becomes a leaf, and its prompt says so), prompt, model and provider.
 * Throws a typed error before anything is spawned.
 */
export function prepareChild(deps: PrepareDeps, request: ChildRequest, origin: ChildOrigin, delegated: boolean): HandleSpawn {
  const { parentId, fieldPrefix = '' } = origin;
  const agentType = resolveAgentType(request.agentType ?? 'general', deps.options.agentTypes);
  const parentCwd = deps.cwdOf(parentId);
  const typeCwd = agentType.cwd === undefined ? parentCwd : childWorkingDirectory(parentCwd, agentType.cwd, `${agentType.name}.cwd`);
  // The request's own directory is relative to the parent's; without one, the agent type's (itself inside the parent's).
  const cwd = request.cwd === undefined ? typeCwd : childWorkingDirectory(parentCwd, request.cwd, `${fieldPrefix}cwd`);
  const isolation = request.isolation ?? agentType.isolation ?? 'none';
  const parentConversation = origin.parentConversation ?? (parentId === null ? null : deps.conversationOf(parentId));
  const inherited = inheritedMessages(request.contextMode, parentConversation, `${fieldPrefix}contextMode`);
  const depth = (deps.handles.depthOf(parentId) ?? 0) + 1;
  const { maxSpawnDepth } = deps.handles.limits;
  const wantsOrchestrator = request.role === 'orchestrator';
  const canDelegate = wantsOrchestrator && depth < maxSpawnDepth;
  const role: Role = canDelegate ? 'orchestrator' : 'leaf';
  const child = resolveChildTools({
    parentTools: deps.toolsOf(parentId),
    requestedToolsets: request.toolsets,
    blockedTools: deps.options.blockedTools,
    allowlist: agentType.allowedToolsets,
    allowDelegation: canDelegate,
  });
  const degradedToLeaf = wantsOrchestrator && !canDelegate;
  const systemPrompt = buildChildSystemPrompt({
    goal: request.goal,
    context: request.context,
    cwd,
    isolation,
    contextMode: request.contextMode,
    agentType,
    role,
    depth,
    maxSpawnDepth,
    deniedToolsets: child.deniedToolsets,
    degradedFromOrchestrator: degradedToLeaf,
  });
  const strategy = deps.strategy;
  const provider = request.provider ?? agentType.provider ?? strategy?.defaultProvider ?? 'default';
  if (strategy && !strategy.providers.has(provider)) {
    throw new BadArgumentError('provider', `one of the runtime's providers (${[...strategy.providers.keys()].join(', ')})`, provider);
  }
  const model = request.model ?? agentType.model ?? strategy?.providers.get(provider)?.model ?? deps.options.model ?? 'custom';
  return {
    name: request.name,
    parentId,
    role,
    agentType: agentType.name,
    model,
    goal: request.goal,
    delegated,
    budget: request.budget ?? agentType.budget,
    onParentStop: request.onParentStop ?? agentType.onParentStop,
    setup: {
      systemPrompt,
      tools: child.tools.map((tool) => tool.name),
      model,
      provider,
      maxIterations: Math.min(agentType.maxIterations, deps.options.maxIterations),
      deniedToolsets: child.deniedToolsets,
      degradedToLeaf,
      cwd,
      isolation,
      inherited,
      maxConversationTokens: agentType.maxConversationTokens ?? deps.maxConversationTokens,
    },
  };
}
