/**
 * Agent types: what kind of work a subagent does, which toolsets it may use
 * and how many model iterations it gets. Four are built in; users define more
 * with {@link defineAgentType}.
 *
 * Built-in allowlists use these toolset names: `read` (read files), `search`
 * (find files and text), `web` (fetch and search the web) and `terminal` (run
 * commands). Tools in other toolsets are available only to `general` and to
 * user-defined types that list them.
 */
import { checkBudget } from '../runtime/budgets.js';
import { BadArgumentError } from '../errors.js';
import type { Budget, Isolation, OnParentStop } from '../types.js';
import { checkResultChecks } from './checked-result.js';
import type { ResultChecks } from './checked-result.js';
import { checkOnParentStop } from '../runtime/stop-policy.js';

/**
 * A kind of subagent. Its checks (`outputSchema`, `requireEvidence`,
 * `verify`, see {@link ResultChecks}) apply to every task delegated to it,
 * unless the task gives its own.
 */
export interface AgentType extends ResultChecks {
  /** The name a model or a caller picks the type by. */
  readonly name: string;
  /** One sentence on when to use it, shown to the delegating model. */
  readonly description: string;
  /** Toolset (or tool) names the type may use; `undefined` allows every tool. */
  readonly allowedToolsets?: readonly string[] | undefined;
  /** The most model calls one run may make. */
  readonly maxIterations: number;
  /** What the subagent concentrates on; goes into its system prompt. */
  readonly promptFocus: string;
  /** The model its handles use unless the task names one. @default the provider's, else the runtime's */
  readonly model?: string | undefined;
  /** The named provider its model calls go to. @default the runtime's default provider */
  readonly provider?: string | undefined;
  /**
   * Who the subagent is, opening its system prompt (the goal, context and
   * tools follow). @default a generic subagent preamble
   */
  readonly systemPrompt?: string | undefined;
  /** Its working directory, relative to the parent's (and inside it). @default the parent's */
  readonly cwd?: string | undefined;
  /** `'worktree'`: its handles' runs work in a git worktree of their own. @default 'none' */
  readonly isolation?: Isolation | undefined;
  /** Estimated tokens a request of its handles may carry (see `maxConversationTokens` on the runtime). @default the runtime's */
  readonly maxConversationTokens?: number | undefined;
  /** What each of its handles may spend, reserved from its parent's remainder. @default half the parent's remainder */
  readonly budget?: Budget | undefined;
  /** What its handles do when their parent is stopped: stop too, or go on. @default 'cascade' */
  readonly onParentStop?: OnParentStop | undefined;
}

/** The pattern agent-type names follow. */
const AGENT_TYPE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * Defines an agent type, checking every field.
 *
 * @throws {BadArgumentError} when a field is missing or invalid.
 * @example
 * ```ts
 * const reviewer = defineAgentType({
 *   name: 'review',
 *   description: 'Reviews a diff and lists problems.',
 *   allowedToolsets: ['read', 'search'],
 *   maxIterations: 15,
 *   promptFocus: 'Review the change; list each problem with file, line and why it matters.',
 * });
 * ```
 */
export function defineAgentType(config: AgentType): AgentType {
  const { name, description, allowedToolsets, maxIterations, promptFocus, model, provider, systemPrompt, cwd, isolation, maxConversationTokens, onParentStop } = config;
  if (typeof name !== 'string' || !AGENT_TYPE_NAME_PATTERN.test(name)) {
    throw new BadArgumentError('name', 'an agent type name matching /^[a-z][a-z0-9_-]{0,63}$/', name);
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new BadArgumentError(`${name}.description`, 'a non-empty string', description);
  }
  if (allowedToolsets !== undefined) {
    if (!Array.isArray(allowedToolsets)) {
      throw new BadArgumentError(`${name}.allowedToolsets`, 'an array of toolset names or undefined', allowedToolsets);
    }
    allowedToolsets.forEach((toolset: unknown, index) => {
      if (typeof toolset !== 'string' || toolset.trim() === '') {
        throw new BadArgumentError(`${name}.allowedToolsets[${index}]`, 'a non-empty string', toolset);
      }
    });
  }
  if (typeof maxIterations !== 'number' || !Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new BadArgumentError(`${name}.maxIterations`, 'an integer >= 1', maxIterations);
  }
  if (typeof promptFocus !== 'string' || promptFocus.trim() === '') {
    throw new BadArgumentError(`${name}.promptFocus`, 'a non-empty string', promptFocus);
  }
  for (const [field, value] of [['model', model], ['provider', provider], ['systemPrompt', systemPrompt], ['cwd', cwd]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new BadArgumentError(`${name}.${field}`, 'a non-empty string or undefined', value);
    }
  }
  if (isolation !== undefined && isolation !== 'none' && isolation !== 'worktree') {
    throw new BadArgumentError(`${name}.isolation`, "'none', 'worktree' or undefined", isolation);
  }
  if (maxConversationTokens !== undefined && !(Number.isInteger(maxConversationTokens) && maxConversationTokens >= 1)) {
    throw new BadArgumentError(`${name}.maxConversationTokens`, 'an integer >= 1 or undefined', maxConversationTokens);
  }
  const checks = checkResultChecks(config as unknown as Record<string, unknown>, `${name}.`);
  checkOnParentStop(onParentStop, `${name}.onParentStop`);
  return Object.freeze({
    ...checks,
    name,
    description,
    allowedToolsets: allowedToolsets === undefined ? undefined : Object.freeze([...new Set(allowedToolsets)]),
    maxIterations,
    promptFocus,
    ...(model !== undefined ? { model } : {}),
    ...(provider !== undefined ? { provider } : {}),
    ...(systemPrompt !== undefined ? { systemPrompt } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(isolation !== undefined ? { isolation } : {}),
    ...(maxConversationTokens !== undefined ? { maxConversationTokens } : {}),
    ...(config.budget !== undefined ? { budget: Object.freeze({ ...checkBudget(config.budget, `${name}.budget`) }) } : {}),
    ...(onParentStop !== undefined ? { onParentStop } : {}),
  });
}

/** The built-in agent types, by name. */
export const BUILT_IN_AGENT_TYPES = Object.freeze({
  /** Every tool the parent can give; for work that changes things. */
  general: defineAgentType({
    name: 'general',
    description: 'Any task; gets every tool the parent can give.',
    maxIterations: 50,
    systemPrompt:
      'You are a subagent: another agent delegated one goal to you. You may change things (write files, run commands) ' +
      'when your tools allow and the goal needs it; say in your answer what you changed.',
    promptFocus: 'Complete the goal thoroughly with the tools you have.',
  }),
  /** Read-only investigation. */
  explore: defineAgentType({
    name: 'explore',
    description: 'Read-only investigation: find and read files, search, browse; changes nothing.',
    allowedToolsets: ['read', 'search', 'web'],
    maxIterations: 30,
    systemPrompt:
      'You are an explore subagent: another agent delegated an investigation to you. You are read-only: you read, ' +
      'search and browse, and you change nothing: no file written, no command with side effects.',
    promptFocus:
      'Investigate and report what you find. You are read-only: change no file and run nothing that has side effects. ' +
      'Cite the files, lines or pages your findings come from.',
  }),
  /** Read-only, no execution, output is a plan. */
  plan: defineAgentType({
    name: 'plan',
    description: 'Designs an approach: reads and searches, runs nothing, returns a step-by-step plan.',
    allowedToolsets: ['read', 'search'],
    maxIterations: 20,
    systemPrompt:
      'You are a plan subagent: another agent asked you for a plan, not for the work itself. Your answer is a plan. ' +
      'You are read-only: you change no file and run nothing.',
    promptFocus:
      'Produce a plan, not an implementation: read what you need, then give numbered steps naming the files to change, ' +
      'the order, the risks and how to check each step. Change nothing and run nothing.',
  }),
  /** Reads and runs checks, reports pass or fail. */
  verify: defineAgentType({
    name: 'verify',
    description: 'Checks work: reads code and runs tests or commands, reports pass or fail with evidence.',
    allowedToolsets: ['read', 'search', 'terminal'],
    maxIterations: 20,
    systemPrompt:
      'You are a verify subagent: another agent asked you to review its work and run the checks that show whether it ' +
      'holds. You report; you do not fix. You change no file.',
    promptFocus:
      'Verify, do not fix: run the relevant checks and report PASS or FAIL for each, with the evidence ' +
      '(commands run, their output, file and line). Change no file.',
  }),
});

/** The names of the built-in agent types. */
export type BuiltInAgentTypeName = keyof typeof BUILT_IN_AGENT_TYPES;

/**
 * Finds an agent type by name. User-defined types come first, so one may
 * replace a built-in type of the same name.
 *
 * @param name - the agent type's name.
 * @param custom - user-defined agent types; none by default.
 * @throws {BadArgumentError} for an unknown name; the message lists the known ones.
 * @example
 * ```ts
 * resolveAgentType('explore').maxIterations; // 30
 * resolveAgentType('review', [reviewer]); // reviewer
 * ```
 */
export function resolveAgentType(name: string, custom: readonly AgentType[] = [], field = 'agent_type'): AgentType {
  const found = custom.find((type) => type.name === name) ?? builtInAgentType(name);
  if (found) return found;
  const known = [...new Set([...Object.keys(BUILT_IN_AGENT_TYPES), ...custom.map((type) => type.name)])];
  throw new BadArgumentError(field, `one of ${known.map((typeName) => `\`${typeName}\``).join(', ')}`, name);
}

function builtInAgentType(name: string): AgentType | undefined {
  const builtIn: Readonly<Record<string, AgentType>> = BUILT_IN_AGENT_TYPES;
  // hasOwn: `toString` and friends are not agent types.
  return Object.hasOwn(builtIn, name) ? builtIn[name] : undefined;
}
