/**
 * The text of `delegate_task`, written from the runtime's limits as they are
 * when the definition is requested and from where the calling agent sits, so
 * a model never limits itself to defaults it does not have.
 */
import type { AgentToolsSettings } from './agent-tool-settings.js';
import { callerDepth, knownAgentTypes } from './agent-tool-settings.js';
import type { ToolCaller, ToolDescription } from '../toolkit/dynamic-tool.js';
import { depthLimitSentence } from '../toolkit/tool-error.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';

/** The facts a `delegate_task` description states. */
export interface DelegationFacts {
  callerDepth: number;
  maxSpawnDepth: number;
  maxConcurrentChildren: number;
  maxConcurrentRuns: number | null;
  maxBatchSize: number;
  maxBackground: number;
  /** Toolsets the caller can pass on, in its order. */
  toolsets: string[];
  blockedTools: readonly string[];
  agentTypes: Array<{ name: string; description: string }>;
  /** The configured providers, the default first; empty for a custom run. */
  providers: readonly string[];
  /** Whether a call that leaves `background` out runs in the background. */
  backgroundByDefault: boolean;
  /** How a background result reaches the caller (a clause). */
  backgroundDelivery: string;
  /** Whether the caller spends from a budget (it has one for life: the sentence never changes between requests). */
  budgeted: boolean;
}

/** Reads the facts now, for `caller`. */
export function delegationFacts(settings: AgentToolsSettings, caller: ToolCaller): DelegationFacts {
  const { runtime } = settings;
  const limits = runtime.limits;
  const blocked = new Set(runtime.options.blockedTools);
  const toolsets: string[] = [];
  for (const tool of runtime.toolsOf(caller.handleId)) {
    // Delegation goes with the orchestrator role, not with a toolset request.
    if (tool.toolset === DELEGATION_TOOLSET || blocked.has(tool.name) || toolsets.includes(tool.toolset)) continue;
    toolsets.push(tool.toolset);
  }
  return {
    callerDepth: callerDepth(runtime, caller.handleId, caller.depth),
    maxSpawnDepth: limits.maxSpawnDepth,
    maxConcurrentChildren: limits.maxConcurrentChildren,
    maxConcurrentRuns: limits.maxConcurrentRuns,
    maxBatchSize: settings.maxBatchSize(),
    maxBackground: runtime.options.maxBackground,
    toolsets,
    blockedTools: runtime.options.blockedTools,
    agentTypes: knownAgentTypes(runtime).map(({ name, description }) => ({ name, description })),
    providers: runtime.options.providers,
    backgroundByDefault: settings.backgroundByDefault,
    backgroundDelivery: settings.backgroundDelivery,
    budgeted: runtime.budget(caller.handleId) !== null,
  };
}

/** One sentence on nesting, from the caller's depth. */
export function nestingClause(facts: Pick<DelegationFacts, 'callerDepth' | 'maxSpawnDepth'>): string {
  const { callerDepth: depth, maxSpawnDepth: max } = facts;
  if (depth >= max) return depthLimitSentence(depth, max);
  const levels = max - (depth + 1);
  if (levels > 0) {
    return (
      `Nesting is ON (max spawn depth ${max}, you are at depth ${depth}): a subagent with role 'orchestrator' ` +
      `may delegate in turn, ${levels} more level${levels === 1 ? '' : 's'} below your subagents.`
    );
  }
  return (
    `Nesting is OFF below you (max spawn depth ${max}, you are at depth ${depth}): your subagents are leaves ` +
    `and cannot delegate; role 'orchestrator' is turned into 'leaf' and the result says so.`
  );
}

/** What to do with more tasks than one call takes; shared with the error for too many tasks. */
export function batchWaysOut(facts: Pick<DelegationFacts, 'maxBatchSize' | 'maxBackground'>): string {
  return (
    `split them over several delegate_task calls of at most ${facts.maxBatchSize}; with background: true those ` +
    `calls run side by side (up to ${facts.maxBackground} background delegations at once)`
  );
}

function toolsetsClause(facts: DelegationFacts): string {
  const available = facts.toolsets.length === 0 ? 'none (your subagents get no tools)' : facts.toolsets.map((name) => `'${name}'`).join(', ');
  return `Toolsets you can pass on: ${available}. Leave toolsets out to give a subagent all of yours.`;
}

function agentTypesClause(facts: DelegationFacts): string {
  return facts.agentTypes.map((type) => `'${type.name}': ${type.description}`).join(' ');
}

/** The whole description of `delegate_task` for a caller. */
export function describeDelegateTask(facts: DelegationFacts): ToolDescription {
  const limits = [
    `- At most ${facts.maxConcurrentChildren} of your subagents run at once; the others wait, in order, for a free slot.`,
    `- At most ${facts.maxBatchSize} tasks per call. For more, ${batchWaysOut(facts)}.`,
    `- ${nestingClause(facts)}`,
    `- background: true ${facts.backgroundByDefault ? '(the default here; pass background: false to wait for the results) ' : ''}` +
      `returns at once with a delegation id and the handle ids; ${facts.backgroundDelivery}. ` +
      `At most ${facts.maxBackground} background delegations run at once; over that the call is refused.`,
    ...(facts.maxConcurrentRuns === null ? [] : [`- At most ${facts.maxConcurrentRuns} subagents run at once in the whole tree.`]),
    ...(facts.budgeted
      ? [
          '- You work within a budget: each subagent gets an even share of half of what you have left, and your deadline at the latest. ' +
            'It holds its share until you close it (close_agent gives back what it did not use); one that spends past it ends with status budget_exceeded.',
        ]
      : []),
  ];
  const description = [
    'Delegate work to subagents. Each starts with a fresh conversation (it knows nothing of yours), its own tools ' +
      'and budget, and gives back only its final summary, so its intermediate work never fills your context.',
    '',
    `Give exactly one of: 'goal' (one task, with optional context, toolsets, role, agent_type, model${facts.providers.length > 0 ? ', provider' : ''}) or ` +
      "'tasks' (a batch: an array of task objects with those fields, run in parallel).",
    '',
    'Limits configured now:',
    ...limits,
    '',
    toolsetsClause(facts) +
      ` A subagent never gets a tool you lack, nor these: ${facts.blockedTools.join(', ') || 'none'}.`,
    `Agent types: ${agentTypesClause(facts)}`,
    ...(facts.providers.length > 1 ? [`Providers: ${facts.providers.map((name, index) => `'${name}'${index === 0 ? ' (default)' : ''}`).join(', ')}.`] : []),
    '',
    'Write goal and context so they stand alone: file paths, error text, constraints, the form the answer should take. ' +
      'Results come in task order, each with status, summary, exitReason, apiCalls, durationMs, tokens and a tool-call ' +
      'summary. A summary is the subagent\'s own report: check claims that matter before you rely on them. Use it for ' +
      'independent or context-heavy work, not for a single tool call you can make yourself.',
  ].join('\n');
  const role =
    "'leaf' (default): a focused worker that cannot delegate. 'orchestrator': keeps the delegation tools to " +
    `spawn its own subagents. ${nestingClause(facts)}`;
  const toolsets = toolsetsClause(facts);
  const agentType = `Kind of subagent (default 'general'). ${agentTypesClause(facts)}`;
  return {
    description,
    properties: [
      {
        path: ['tasks'],
        description:
          `Batch form: up to ${facts.maxBatchSize} tasks, run in parallel (${facts.maxConcurrentChildren} at a time). ` +
          'Each task carries its own goal (and context, toolsets, …); put none of those at the top level next to tasks.',
      },
      { path: ['role'], description: role },
      { path: ['tasks', 'role'], description: role },
      { path: ['toolsets'], description: toolsets },
      { path: ['tasks', 'toolsets'], description: toolsets },
      { path: ['agent_type'], description: agentType },
      { path: ['tasks', 'agent_type'], description: agentType },
    ],
  };
}
