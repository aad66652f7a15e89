/**
 * The live tree of agents: state folded from runtime events, and its
 * rendering as one line per agent, indented by depth under the parent.
 */
import type { RuntimeEvent } from '../runtime/events.js';
import type { HandleStatus, RunOutcome } from '../types.js';

/** The parent agent's own state (the runtime reports no events for it). */
export type RootStatus = 'running' | 'completed' | 'interrupted' | 'error';

/** What the tree knows about one agent. */
export interface AgentRow {
  id: string;
  parentId: string | null;
  depth: number;
  label: string;
  status: HandleStatus | RootStatus;
  /** The tool being run now, if any. */
  tool: string | null;
  /** The model is streaming text (rather than thinking before its first byte). */
  writing: boolean;
  waitingForSlot: boolean;
  toolCount: number;
  tokens: number | null;
  startedAt: number | null;
  endedAt: number | null;
  outcome: RunOutcome | null;
}

export const ROOT_ID = 'parent';

/** The label of a goal: its words up to the first colon, or its first 40 characters. */
export function labelOf(goal: string | null, fallback: string): string {
  if (!goal) return fallback;
  const head = goal.split(':', 1)[0]!.trim();
  const text = head.length > 0 && head.length <= 40 ? head : goal.trim();
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** The agents of one run, in spawn order, updated from runtime events. */
export class AgentTree {
  readonly #rows = new Map<string, AgentRow>();

  constructor(private readonly now: () => number = () => performance.now()) {
    this.#rows.set(ROOT_ID, {
      id: ROOT_ID,
      parentId: null,
      depth: 0,
      label: 'parent agent',
      status: 'running',
      tool: null,
      writing: false,
      waitingForSlot: false,
      toolCount: 0,
      tokens: null,
      startedAt: now(),
      endedAt: null,
      outcome: null,
    });
  }

  get root(): AgentRow {
    return this.#rows.get(ROOT_ID)!;
  }

  get(id: string): AgentRow | undefined {
    return this.#rows.get(id);
  }

  /** The subagents, in spawn order. */
  children(): AgentRow[] {
    return [...this.#rows.values()].filter((row) => row.id !== ROOT_ID);
  }

  /** Rows in tree order: each agent followed by its descendants. */
  ordered(): AgentRow[] {
    const rows = [...this.#rows.values()];
    const result: AgentRow[] = [];
    const visit = (row: AgentRow) => {
      result.push(row);
      const parent = row.id === ROOT_ID ? null : row.id;
      for (const child of rows) if (child.id !== ROOT_ID && child.parentId === parent) visit(child);
    };
    visit(this.root);
    return result;
  }

  /** Updates the tree from an event. */
  apply(event: RuntimeEvent): void {
    const at = this.now();
    switch (event.type) {
      case 'handle-spawn':
        this.#rows.set(event.handleId, {
          id: event.handleId,
          parentId: event.parentId,
          depth: event.depth,
          label: labelOf(event.goal, event.handleId),
          status: event.handle.status,
          tool: null,
          writing: false,
          waitingForSlot: event.handle.waitingForSlot,
          toolCount: 0,
          tokens: 0,
          startedAt: null,
          endedAt: null,
          outcome: null,
        });
        // The runtime reports no tool calls of the parent agent: its spawns show that it delegates.
        if (event.parentId === null && this.root.tool === null) {
          this.root.tool = 'delegation';
          this.root.writing = false;
          this.root.toolCount += 1;
        }
        return;
      case 'handle-update': {
        const row = this.#rows.get(event.handleId);
        if (!row) return;
        row.status = event.handle.status;
        row.waitingForSlot = event.handle.waitingForSlot;
        row.tokens = event.handle.usage.inputTokens + event.handle.usage.outputTokens;
        return;
      }
      case 'run-start':
        this.#update(event.handleId, (row) => {
          row.startedAt = at;
          row.endedAt = null;
          row.writing = false;
          row.waitingForSlot = false;
        });
        return;
      case 'text-delta':
        this.#update(event.handleId, (row) => (row.writing = true));
        return;
      case 'model-call-end':
        this.#update(event.handleId, (row) => {
          row.writing = false;
          row.tokens = event.usage.inputTokens + event.usage.outputTokens;
        });
        return;
      case 'tool-call-start':
        this.#update(event.handleId, (row) => {
          row.tool = event.tool;
          row.toolCount += 1;
        });
        return;
      case 'tool-call-end':
        this.#update(event.handleId, (row) => (row.tool = null));
        return;
      case 'run-end':
        this.#update(event.handleId, (row) => {
          row.endedAt = at;
          row.outcome = event.outcome;
          row.tool = null;
          row.writing = false;
          row.tokens = event.stats.usage.inputTokens + event.stats.usage.outputTokens;
        });
        return;
      case 'delegation-end':
        if (event.parentId === null) this.root.tool = null;
        return;
      default:
        return;
    }
  }

  /** Records how the parent agent ended, and its own tokens. */
  finishRoot(status: Exclude<RootStatus, 'running'>, tokens: number | null): void {
    const root = this.root;
    root.status = status;
    root.tool = null;
    root.writing = false;
    root.endedAt = this.now();
    if (tokens !== null) root.tokens = tokens;
  }

  /** The parent agent is streaming its answer. */
  rootWriting(): void {
    this.root.writing = true;
  }

  #update(id: string, change: (row: AgentRow) => void): void {
    const row = this.#rows.get(id);
    if (row) change(row);
  }
}
