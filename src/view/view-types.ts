/** What the view's page receives: the tree, one handle's details, and the source it reads them from. Types only. */
import type { StateValue } from 'xstate';
import type { ApprovalRequest } from '../runtime/events.js';
import type { BudgetView, HandleSnapshot, RunOutcome, Usage } from '../types.js';

/** One row of the tree: a handle's snapshot and what the view adds to it. */
export interface ViewHandle {
  snapshot: HandleSnapshot;
  /** The chart's full state value (`{ running: { working: 'active' } }`); `null` when unknown. */
  state: StateValue | null;
  /** Ids of the chart's states that value makes active, outermost first (`handle`, `handle.running`, …). */
  activeStates: string[];
  /** Cost of the handle and its descendants, when prices are known. */
  cost: number | null;
  /** When its last run started (ISO 8601), and how long it took once ended. */
  lastRunStartedAt: string | null;
  lastRunMs: number | null;
}

/** The whole tree at one moment. */
export interface ViewState {
  /** `live`: a runtime in this process, with controls; `store`: a durable store, read only. */
  mode: 'live' | 'store';
  /** Where a store view reads from. */
  source: string | null;
  totals: { usage: Usage; cost: number | null; handles: number; running: number; budget?: BudgetView | null };
  handles: ViewHandle[];
  approvals: ApprovalRequest[];
}

/** One run of a handle, as far as the view saw it. */
export interface ViewRun {
  runId: number;
  outcome: RunOutcome;
  input: string;
  durationMs: number;
  tokens: number;
  error: string | null;
}

/** One line of a handle's event log. */
export interface ViewLogEntry {
  /** Milliseconds since the epoch. */
  at: number;
  type: string;
  text: string;
}

/** A selected handle: what the tree row does not carry. */
export interface ViewDetail {
  handle: ViewHandle;
  queue: Array<{ seq: number; message: string }>;
  runs: ViewRun[];
  log: ViewLogEntry[];
}

/** A control the page may ask for. */
export type ViewControl =
  | { action: 'interrupt' | 'cancel' | 'close' | 'resume'; id: string }
  | { action: 'send'; id: string; message: string; interrupt: boolean }
  | { action: 'approve'; requestId: string; approve: boolean; reason?: string };

/** What the server serves: a live runtime or a store read from disk. */
export interface ViewSource {
  readonly mode: ViewState['mode'];
  state(): ViewState;
  detail(id: string): ViewDetail | null;
  /** Calls `listener` after every change (it may be called often: the server batches). */
  onChange(listener: () => void): () => void;
  /** Carries out a control and returns what the runtime returned; `null` for a read-only source. */
  readonly control: ((control: ViewControl) => unknown) | null;
  close(): void;
}
