/**
 * The tool registry and the policy that decides which of a parent's tools a
 * child gets: requested toolsets ∩ the parent's, minus the blocked tools,
 * narrowed by the agent type's allowlist. A child never gains a tool its
 * parent lacks.
 */
import { BadArgumentError } from '../errors.js';
import type { AnyTool } from './define-tool.js';

/** The toolset holding the tools that spawn or steer subagents (`delegate_task`, …). */
export const DELEGATION_TOOLSET = 'delegation';

/**
 * Tools a child never gets, whatever it asks for: no recursive delegation, no
 * questions to the user, no writes to shared memory, no messages to the
 * outside world, no scripts instead of step-by-step work.
 */
export const DEFAULT_BLOCKED_TOOLS: readonly string[] = Object.freeze([
  'delegate_task',
  'clarify',
  'memory',
  'send_message',
  'execute_code',
]);

/** A set of tools looked up by name, grouped by toolset. */
export interface ToolRegistry {
  /** Every tool, in registration order. */
  readonly tools: readonly AnyTool[];
  /** The tool named `name`, if registered. */
  get(name: string): AnyTool | undefined;
  /** Toolset names, in order of first appearance. */
  toolsets(): string[];
  /** The tools of one toolset, in registration order; empty for an unknown toolset. */
  toolsOf(toolset: string): AnyTool[];
}

/**
 * Creates a registry over a list of tools.
 *
 * @throws {BadArgumentError} when two tools share a name.
 * @example
 * ```ts
 * const registry = createToolRegistry([readFile, grep, delegateTask]);
 * registry.get('read_file'); // readFile
 * registry.toolsets(); // ['read', 'search', 'delegation']
 * ```
 */
export function createToolRegistry(tools: readonly AnyTool[]): ToolRegistry {
  const byName = new Map<string, { tool: AnyTool; index: number }>();
  tools.forEach((tool, index) => {
    const existing = byName.get(tool.name);
    if (existing) {
      throw new BadArgumentError(
        `tools[${index}].name`,
        `a name not already used (tools[${existing.index}] is \`${tool.name}\`)`,
        tool.name,
      );
    }
    byName.set(tool.name, { tool, index });
  });
  const list = Object.freeze([...tools]);
  return {
    tools: list,
    get: (name) => byName.get(name)?.tool,
    toolsets: () => toolsetsOf(list),
    toolsOf: (toolset) => list.filter((tool) => tool.toolset === toolset),
  };
}

/** Why a requested toolset was not granted. */
export type ToolsetDenialReason =
  /** The parent does not have the toolset (or no such toolset exists). */
  | 'not_available_to_parent'
  /** Every tool of the toolset is blocked for children. */
  | 'blocked'
  /** The agent type's allowlist leaves none of its tools. */
  | 'not_allowed_by_agent_type';

/** A requested toolset the child did not get, and why. */
export interface ToolsetDenial {
  toolset: string;
  reason: ToolsetDenialReason;
}

/** Input of {@link resolveChildTools}. */
export interface ResolveChildToolsOptions {
  /** The tools of the delegating agent: the child's tools are a subset of these. */
  parentTools: readonly AnyTool[];
  /** Toolsets asked for; `undefined` or empty inherits every toolset of the parent. */
  requestedToolsets?: readonly string[] | undefined;
  /**
   * Tool names a child never gets.
   * @default DEFAULT_BLOCKED_TOOLS
   */
  blockedTools?: readonly string[] | undefined;
  /**
   * The agent type's allowlist: tool names or toolset names; `undefined` allows all.
   * @default undefined
   */
  allowlist?: readonly string[] | undefined;
  /**
   * Whether the child may delegate (an orchestrator below the depth limit).
   * When true, the parent's `delegation` toolset is granted whole: exempt from
   * the blocked tools and the allowlist, and whether or not it was requested,
   * since the role, not the toolset list, decides delegation. Without it the
   * `delegation` toolset is always withheld.
   * @default false
   */
  allowDelegation?: boolean | undefined;
}

/** Output of {@link resolveChildTools}. */
export interface ChildTools {
  /** The child's tools, in the parent's order. */
  tools: AnyTool[];
  /** Toolsets the child has at least one tool of, in the parent's order. */
  grantedToolsets: string[];
  /** Requested toolsets the child did not get, in request order. */
  deniedToolsets: string[];
  /** The same denials, with their reason. */
  denials: ToolsetDenial[];
}

/**
 * Decides a child's tools from its parent's. Pure: same input, same output.
 *
 * - Requested toolsets ∩ the parent's toolsets; nothing requested inherits the
 *   parent's full set.
 * - Minus the blocked tools and, unless `allowDelegation`, the delegation toolset.
 * - Narrowed by the allowlist (tool or toolset names).
 * - A requested toolset that ends up with no tools is denied and reported.
 *
 * @example
 * ```ts
 * const { tools, deniedToolsets } = resolveChildTools({
 *   parentTools: [readFile, grep, delegateTask],
 *   requestedToolsets: ['read', 'terminal'],
 * });
 * // tools: [readFile]; deniedToolsets: ['terminal']
 * ```
 */
export function resolveChildTools(options: ResolveChildToolsOptions): ChildTools {
  const { parentTools, requestedToolsets, allowlist, allowDelegation = false } = options;
  const blocked = new Set(options.blockedTools ?? DEFAULT_BLOCKED_TOOLS);
  const allowed = allowlist === undefined ? undefined : new Set(allowlist);
  const requested = requestedToolsets === undefined ? [] : [...new Set(requestedToolsets)];

  const isDelegation = (tool: AnyTool): boolean => tool.toolset === DELEGATION_TOOLSET;
  const passesBlock = (tool: AnyTool): boolean =>
    isDelegation(tool) ? allowDelegation : !blocked.has(tool.name);
  const passesAllowlist = (tool: AnyTool): boolean =>
    allowed === undefined || (allowDelegation && isDelegation(tool)) || allowed.has(tool.name) || allowed.has(tool.toolset);
  const wanted = (tool: AnyTool): boolean =>
    requested.length === 0 || requested.includes(tool.toolset) || (allowDelegation && isDelegation(tool));

  // Filtering the parent's list is what guarantees a child never gains a tool.
  const tools = parentTools.filter((tool) => wanted(tool) && passesBlock(tool) && passesAllowlist(tool));

  const denials: ToolsetDenial[] = [];
  for (const toolset of requested) {
    if (tools.some((tool) => tool.toolset === toolset)) continue;
    const members = parentTools.filter((tool) => tool.toolset === toolset);
    const unblocked = members.filter(passesBlock);
    const reason: ToolsetDenialReason =
      members.length === 0 ? 'not_available_to_parent' : unblocked.length === 0 ? 'blocked' : 'not_allowed_by_agent_type';
    denials.push({ toolset, reason });
  }
  return { tools, grantedToolsets: toolsetsOf(tools), deniedToolsets: denials.map((denial) => denial.toolset), denials };
}

function toolsetsOf(tools: readonly AnyTool[]): string[] {
  return [...new Set(tools.map((tool) => tool.toolset))];
}
