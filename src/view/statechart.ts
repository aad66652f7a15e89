/**
 * A handle's statechart as the view draws it: the state nodes of the machine
 * definition itself (nested as in the code) with the transitions each one
 * takes, and the states a snapshot value makes active.
 */
import type { AnyStateMachine, StateValue } from 'xstate';

/** One transition of a state, as written in the machine. */
export interface ChartTransition {
  /** The event type (`xstate.done.actor.agentRun` for a run that settles). */
  event: string;
  /** Ids of the target states; empty for a transition that only runs actions. */
  targets: string[];
  /** The guard's name, or `null` when none. */
  guard: string | null;
  /** Leaves and re-enters its target even when it is the current state. */
  reenter: boolean;
}

/** One state node, its children nested. */
export interface ChartNode {
  /** The node's id (`handle.running.working`). */
  id: string;
  /** Its key in its parent (`working`). */
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** The key of the initial child, for compound states. */
  initial: string | null;
  transitions: ChartTransition[];
  children: ChartNode[];
}

interface StateNodeLike {
  id: string;
  key: string;
  type: ChartNode['type'];
  states: Record<string, StateNodeLike>;
  initial?: { target?: ReadonlyArray<{ key: string }> } | undefined;
  transitions: Map<string, ReadonlyArray<{ target?: ReadonlyArray<{ id: string }> | undefined; guard?: unknown; reenter?: boolean }>>;
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  // Combined guards (`and([...])`, `or`, `not`) carry their parts.
  const parts = (guard as { guards?: unknown }).guards;
  if (Array.isArray(parts)) {
    const names = parts.map((part) => guardName(part) ?? 'guard');
    const kind = (guard as { name?: unknown }).name;
    return kind === 'not' ? `not ${names.join(', ')}` : names.join(kind === 'or' ? ' or ' : ' and ');
  }
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  return 'guard';
}

function describeNode(node: StateNodeLike): ChartNode {
  const transitions: ChartTransition[] = [];
  for (const [event, list] of node.transitions) {
    for (const transition of list) {
      transitions.push({
        event,
        targets: (transition.target ?? []).map((target) => target.id),
        guard: guardName(transition.guard),
        reenter: transition.reenter === true,
      });
    }
  }
  return {
    id: node.id,
    key: node.key,
    type: node.type,
    initial: node.initial?.target?.[0]?.key ?? null,
    transitions,
    children: Object.values(node.states).map(describeNode),
  };
}

/**
 * The chart of a machine, read from its definition: what the view draws, so
 * the drawing cannot drift from the code.
 */
export function describeMachine(machine: AnyStateMachine): ChartNode {
  return describeNode(machine.root);
}

/**
 * The ids of the states a value makes active, outermost first.
 *
 * @example
 * ```ts
 * activeStateIds('handle', { running: { working: 'active' } });
 * // ['handle', 'handle.running', 'handle.running.working', 'handle.running.working.active']
 * ```
 */
export function activeStateIds(rootId: string, value: StateValue): string[] {
  const ids = [rootId];
  const visit = (prefix: string, current: StateValue) => {
    if (typeof current === 'string') {
      ids.push(`${prefix}.${current}`);
      return;
    }
    for (const [key, child] of Object.entries(current)) {
      ids.push(`${prefix}.${key}`);
      if (child !== undefined) visit(`${prefix}.${key}`, child);
    }
  };
  visit(rootId, value);
  return ids;
}
