/** The seven statuses a subagent handle can be in. */
export type HandleStatus = 'idle' | 'running' | 'completed' | 'error' | 'interrupted' | 'cancelled' | 'closed';

/** How a run ended: exactly one per run. */
export type RunOutcome = 'completed' | 'error' | 'interrupted' | 'cancelled' | 'timeout';

/** Token usage, summed over model calls. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** Role of a subagent: a leaf cannot delegate, an orchestrator may (depth allowing). */
export type Role = 'leaf' | 'orchestrator';

/** An input waiting in a handle's FIFO queue. */
export interface QueuedInput {
  /** Sequence number, unique within the runtime. */
  seq: number;
  message: string;
}

/** A plain-JSON view of a handle: no functions, no clients, no secrets. */
export interface HandleSnapshot {
  id: string;
  name: string;
  status: HandleStatus;
  parentId: string | null;
  depth: number;
  role: Role;
  agentType: string;
  model: string | null;
  /** The goal the handle was spawned for, if any. */
  goal: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. */
  updatedAt: string;
  lastInput: string | null;
  lastOutput: string | null;
  error: string | null;
  queueSize: number;
  queuedPreview: string | null;
  closed: boolean;
  /** True while the handle has work but waits for a concurrency slot. */
  waitingForSlot: boolean;
  usage: Usage;
  /** Number of runs that have ended on this handle. */
  runs: number;
  /** Outcome of the last run that ended, if any. */
  lastOutcome: RunOutcome | null;
  /** Status before the last close, if the handle was ever closed. */
  previousStatus: HandleStatus | null;
}

/** One tool call a run made. */
export interface ToolTraceEntry {
  tool: string;
  argumentBytes: number;
  resultBytes: number;
  ok: boolean;
  /** The readable error for a failed call. */
  error?: string;
}

/** What a run did so far: kept for every outcome, also when the run was stopped. */
export interface RunStats {
  apiCalls: number;
  usage: Usage;
  toolTrace: ToolTraceEntry[];
  /** The model the run used, if it used one. */
  model: string | null;
  /** `performance.now()` when the run started. */
  startedAt: number;
}
