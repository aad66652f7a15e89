/**
 * The random tool calls of `checkDelegationFlows`: what a parent agent might
 * call next, drawn from a seeded generator and the handles made so far.
 */
import type { AnyTool } from '../toolkit/define-tool.js';

/** The LLM-facing tools a flow calls. */
export type FlowTool = 'delegate_task' | 'spawn_agent' | 'send_input' | 'wait_agent' | 'interrupt_agent' | 'close_agent' | 'resume_agent';

/**
 * One call of a flow. A string `@k` in `args` stands for the k-th handle the
 * flow made (so a replay that makes other ids calls the same handles).
 */
export interface FlowCall {
  tool: FlowTool;
  args: Record<string, unknown>;
}

/** A small seeded generator (mulberry32): the same seed draws the same flows. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the next call is drawn from. */
export interface FlowState {
  /** Handles made so far, in order. */
  made: number;
  /** The toolsets of the root agent's tools (the user's and `delegation`). */
  toolsets: readonly string[];
  agentTypes: readonly string[];
}

const HANDLE_TOOLS = ['send_input', 'send_input', 'wait_agent', 'interrupt_agent', 'interrupt_agent', 'close_agent', 'resume_agent'] as const;

/** Draws the next call of flow `flow`, step `step`. Texts are unique, so inputs and goals tell their calls apart. */
export function nextCall(random: () => number, state: FlowState, flow: number, step: number): FlowCall {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const tag = `${flow}.${step}`;
  // Bracketed, so no text is part of another (`[0.1]` is not in `[0.10]`).
  const target = () => (random() < 0.08 ? 'sa_nobody' : `@${Math.floor(random() * state.made)}`);
  const task = (index: number) => {
    const toolsets = state.toolsets.filter(() => random() < 0.5);
    return {
      goal: `goal [${tag}${index > 0 ? `/${index}` : ''}]`,
      ...(random() < 0.5 ? { toolsets } : {}),
      ...(random() < 0.3 ? { agent_type: pick(state.agentTypes) } : {}),
    };
  };
  const kinds = state.made === 0 ? ['delegate', 'background', 'spawn'] : ['delegate', 'background', 'spawn', ...HANDLE_TOOLS];
  const kind = pick(kinds);
  switch (kind) {
    case 'delegate':
    case 'background': {
      const batch = random() < 0.3 ? [task(1), task(2)] : null;
      const args = batch ? { tasks: batch } : task(0);
      return { tool: 'delegate_task', args: kind === 'background' ? { ...args, background: true } : args };
    }
    case 'spawn':
      return {
        tool: 'spawn_agent',
        args: {
          nickname: `agent-${tag}`,
          ...(random() < 0.7 ? { message: `input [${tag}]` } : {}),
          ...(random() < 0.3 ? { agent_type: pick(state.agentTypes) } : {}),
        },
      };
    case 'send_input':
      return { tool: 'send_input', args: { target: target(), message: `input [${tag}]`, ...(random() < 0.3 ? { interrupt: true } : {}) } };
    case 'wait_agent':
      return { tool: 'wait_agent', args: { targets: [target()], timeout_ms: Math.floor(random() * 50) } };
    default:
      return { tool: kind as FlowTool, args: { target: target() } };
  }
}

/** The toolsets of a list of tools, once each. */
export const toolsetsOf = (tools: readonly AnyTool[]): string[] => [...new Set(tools.map((tool) => tool.toolset))];

/** `@k` strings replaced by the k-th handle made (`sa_unknown` when there is none). */
export function resolveRefs(value: unknown, made: readonly string[]): unknown {
  if (typeof value === 'string') return /^@\d+$/.test(value) ? (made[Number(value.slice(1))] ?? 'sa_unknown') : value;
  if (Array.isArray(value)) return value.map((item) => resolveRefs(item, made));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveRefs(item, made)]));
  return value;
}

