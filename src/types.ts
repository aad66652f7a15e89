/** The seven statuses a subagent handle can be in. */
export type HandleStatus = 'idle' | 'running' | 'completed' | 'error' | 'interrupted' | 'cancelled' | 'closed';

/**
 * How a run ended: exactly one per started run. The one list of outcomes for
 * the whole library; {@link STATUS_AFTER_OUTCOME} says where each leaves the handle.
 */
export type RunOutcome = 'completed' | 'error' | 'timeout' | 'interrupted' | 'cancelled' | 'budget_exceeded';

/**
 * The handle's status after a run ends with each outcome (when no queued input
 * follows). `close` of a running handle records its run as `cancelled` and the
 * handle is then `closed`.
 */
export const STATUS_AFTER_OUTCOME = {
  completed: 'completed',
  error: 'error',
  timeout: 'error',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  budget_exceeded: 'error',
} as const satisfies Record<RunOutcome, HandleStatus>;

/** Why an accepted input was handed back instead of processed. */
export type HandBackReason = 'interrupted' | 'cancelled' | 'closed';

/**
 * A tool call as it sits in a conversation. Fields a server adds beside the
 * standard ones (Gemini's `extra_content` with its thought signature) are kept
 * and sent back with the call as they came.
 */
export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  [field: string]: unknown;
}

/**
 * An assistant message. `reasoning_content` (DeepSeek, vLLM) or `reasoning`
 * (OpenRouter, Ollama) is the model's thinking on a turn with tool calls, sent
 * back because some servers refuse the next request without it; other fields
 * a server added to the message are kept and sent back too.
 */
export interface ChatAssistantMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ChatToolCall[];
  reasoning_content?: string;
  reasoning?: string;
  [field: string]: unknown;
}

/** One message of a conversation: plain JSON, the shape OpenAI-compatible servers take. */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | ChatAssistantMessage
  | { role: 'tool'; tool_call_id: string; content: string };

/** Limits on each run of a handle; each is a transition of the handle's chart. `null`: none. */
export interface RunLimits {
  /** A run longer than this ends with outcome `timeout`. */
  childTimeoutMs: number | null;
  /** A run that reports no progress for this long ends with outcome `timeout`. */
  staleTimeoutMs: number | null;
  /** Tokens (input + output) one run may spend; past it the run ends in `error`. */
  maxRunTokens: number | null;
}


/** The price of a model, in US dollars per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Prices per model name. */
export type ModelPrices = Record<string, ModelPrice>;

/** Token usage, summed over model calls. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** Role of a subagent: a leaf cannot delegate, an orchestrator may (depth allowing). */
export type Role = 'leaf' | 'orchestrator';

/**
 * How a handle's runs work, fixed when it is spawned and carried in its
 * snapshot: plain JSON (tools by name), so it persists with the handle. The
 * chart never reads it; the run strategy does. `null` for handles spawned
 * without one (a custom run's `spawn`).
 */
export interface HandleSetup {
  systemPrompt: string;
  /** The names of the tools the handle may call: a subset of its parent's. */
  tools: string[];
  model: string;
  /** The named provider its model calls go to. */
  provider: string;
  maxIterations: number;
  /** Toolsets asked for but not granted. */
  deniedToolsets: string[];
  /** True when an orchestrator was asked for but the depth made it a leaf. */
  degradedToLeaf: boolean;
  /**
   * Its working directory, absolute: its tools get it as `ToolContext.cwd`.
   * With `isolation: 'worktree'`, the directory its git worktree is made
   * from; its runs then work in the worktree.
   */
  cwd: string;
  /** `'worktree'`: its runs work in a git worktree of their own. */
  isolation: Isolation;
  /**
   * Messages of its parent's conversation it starts with, after its system
   * prompt (context mode `'fork'` or `{ lastMessages }`); empty for `'fresh'`.
   */
  inherited: ChatMessage[];
  /**
   * Estimated tokens its requests may carry: older turns are left out of a
   * request past it (never the system prompt, the run's input, or half of a
   * tool call and its result). `null`: no bound.
   */
  maxConversationTokens: number | null;
}

/** Where a handle's runs work: in its `cwd` (`'none'`), or in a git worktree of their own. */
export type Isolation = 'none' | 'worktree';

/**
 * What a child does when its parent is stopped (interrupt, cancel, close):
 * `'cascade'` stops with it; `'detach'` goes on, gives back its parent's
 * concurrency slot, and delivers its result to whoever waits for it, else to
 * the nearest open ancestor's inbox. `shutdown()` stops every handle either way.
 */
export type OnParentStop = 'cascade' | 'detach';

/**
 * A handle's git worktree (`isolation: 'worktree'`): made at its first run,
 * reused by its later runs, and judged when the handle is closed, cancelled,
 * forgotten or shut down (and when a delegated task ends): removed with its
 * branch when nothing changed, kept otherwise.
 */
export interface WorktreeReport {
  /** The worktree's directory, absolute. */
  path: string;
  /** Its branch, made from `baseCommit` (`subagents/<handle id>`). */
  branch: string;
  /** The commit it was made from: the HEAD of the parent agent's tree then. */
  baseCommit: string;
  /**
   * `'active'`: in use by the handle, not judged since its last run started;
   * `'kept'`: judged changed (or could not be judged), left on disk with its
   * branch; `'removed'`: judged unchanged, removed with its branch.
   */
  state: 'active' | 'kept' | 'removed';
  /** Uncommitted changes, untracked files or new commits at the last judgement; `null` while active or when it could not be judged. */
  changed: boolean | null;
  /** `git diff --stat` of the worktree (commits, changes and untracked files) against `baseCommit`; empty when unchanged. */
  diffStat: string;
  /** The parent agent's tree had uncommitted changes or untracked files when the worktree was made: the worktree does not have them. */
  parentDirty: boolean;
  /** Why it could not be judged or removed (it is then kept); `null` otherwise. */
  error: string | null;
}

/** A JSON value. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What a run reports beside its output, as plain JSON: kept as the last run's `details`, in events and snapshots. */
export type RunDetails = { readonly [key: string]: JsonValue };

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
  /** Grows with every change of any handle in this process: compare it, not `updatedAt`, to know which changed last. */
  revision: number;
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
  /**
   * Text the last run produced before it ended without completing (error,
   * timeout, interrupted, cancelled): a fragment, never an answer. `null`
   * when the last run completed or produced no text.
   */
  partialOutput: string | null;
  /** Status before the last close, if the handle was ever closed. */
  previousStatus: HandleStatus | null;
  /** Its git worktree (`isolation: 'worktree'`) once its first run made one; `null` otherwise. */
  worktree: WorktreeReport | null;
  /** The approval request its run waits for (the status stays `running` meanwhile); `null` when none. */
  awaitingApproval: AwaitingApproval | null;
  /** What its run in flight is doing now; `null` when no run is in flight. */
  progress: RunProgress | null;
  /** Its budget and deadline, spend and remainder; `null` when it has neither. */
  budget: BudgetView | null;
  /** What it does when its parent is stopped. */
  onParentStop: OnParentStop;
}

/**
 * A budget: what a handle (with everything it spawns) may spend. Tokens are
 * input plus output; cost is in US dollars at the runtime's `prices`; time is
 * wall-clock milliseconds from the spawn, and sets the handle's deadline.
 */
export interface Budget {
  tokens?: number;
  costUsd?: number;
  timeMs?: number;
}

/** A handle's budget as snapshots and `agent_status` show it. */
export interface BudgetView {
  /** The tokens reserved for it (`null`: no token limit). */
  tokens: number | null;
  /** The dollars reserved for it (`null`: no cost limit). */
  costUsd: number | null;
  /** Its deadline, ISO 8601 (`null`: none). */
  deadline: string | null;
  /** What its own runs spent. */
  spent: { tokens: number; costUsd: number | null };
  /** What its children hold: their reservations while open, their spend once closed. */
  held: { tokens: number; costUsd: number };
  /** What is left to spend (`null` where there is no limit); never below 0. */
  remaining: { tokens: number | null; costUsd: number | null };
}

/** An approval request a run waits for. */
export interface AwaitingApproval {
  requestId: string;
  /** The tool whose call waits for the answer. */
  tool: string;
}

/**
 * What a run in flight is doing, as snapshots, `progress` events and the
 * agent tools show it. Times are ISO 8601: a snapshot stays a function of the
 * handle's state, not of the moment it is read.
 */
export interface RunProgress {
  /** When the run started. */
  startedAt: string;
  /** Model calls made so far in this run. */
  apiCalls: number;
  /** Tokens spent so far in this run. */
  usage: Usage;
  /** The tool call running now, and since when; `null` when none is. */
  currentTool: { name: string; callId: string; startedAt: string } | null;
  /** When the run's last model call ended; `null` before the first. */
  lastModelCallEndedAt: string | null;
  /** The run's last sign of life: a chunk, a tool call starting or ending, spend. */
  lastActivityAt: string;
  /** The last characters (at most 300) of text the model produced; `null` before any. */
  textTail: string | null;
}

/** One tool call a run made. */
export interface ToolTraceEntry {
  tool: string;
  argumentBytes: number;
  resultBytes: number;
  ok: boolean;
  /** The readable error for a failed call. */
  error?: string;
  /** What the call reported it did (`{ output, evidence }` results): paths written, ids created, URLs. */
  evidence?: Evidence[];
}

/**
 * One thing a tool reports it did, for checking a subagent's claims: `kind`
 * says what `value` names (`'file'`, `'url'`, `'id'`, or a kind of your own).
 */
export interface Evidence {
  kind: string;
  value: string;
}

/** Why a delegated task's answer was refused: it was not JSON, or did not match the task's `outputSchema`. */
export interface SchemaError {
  /** What went wrong, worded for a person: the attempts made and each problem with its path. */
  message: string;
  /** Each problem: where (`items[0].name`, or `(answer)` for the whole answer) and what. */
  issues: Array<{ path: string; message: string }>;
  /** The subagent's last answer, as it came. */
  answer: string;
  /** Answers checked: 2 when the one retry was made. */
  attempts: number;
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

/** Why a subagent's run ended. */
export type ExitReason = 'completed' | 'max_iterations' | 'interrupted' | 'timeout' | 'error' | 'budget_exceeded';

/** The result of one delegated task. */
export interface DelegationResult {
  /** Position of the task in the request. */
  taskIndex: number;
  handleId: string;
  goal: string;
  status: RunOutcome;
  /** The subagent's final answer, or what went wrong. */
  summary: string;
  /** Text the child produced before a run that did not complete ended: a fragment, never an answer. `null` when it completed. */
  partialOutput: string | null;
  exitReason: ExitReason;
  apiCalls: number;
  durationMs: number;
  /** Tokens of the child's run and of its descendants, in the one usage shape. */
  usage: Usage;
  /** Cost in the currency of the configured prices; `null` without prices for the model. */
  cost: number | null;
  toolTrace: ToolTraceEntry[];
  model: string;
  deniedToolsets: string[];
  /** The task asked for an orchestrator, but its depth made it a leaf. */
  degradedToLeaf: boolean;
  error: string | null;
  /** The error's code when the run threw one (`model_output`, `model_request`, `max_iterations`, …); the message starts with the reason for model output errors (`stream_cut: …`). */
  errorCode: string | null;
  /**
   * The child's git worktree (`isolation: 'worktree'`), judged when its task
   * ended: `kept` (with a diff stat) when it changed anything, else `removed`.
   * `null` without worktree isolation, or when the worktree could not be made
   * (`errorCode` `worktree_failed`).
   */
  worktree: WorktreeReport | null;
  /**
   * The answer parsed (plain JSON or a fenced json block) and validated by
   * the task's `outputSchema`: zod's output. `null` without a schema or when
   * the answer did not match.
   */
  value: unknown;
  /** Why the answer was refused by the `outputSchema` (status `error`, `errorCode` `schema_mismatch`); `null` otherwise. */
  schemaError: SchemaError | null;
  /** What the child's tool calls reported they did, in order (successful calls only). */
  evidence: Evidence[];
  /**
   * The task's checks (`requireEvidence`, `verify`): `true` passed, `false`
   * failed (or the task did not complete), `null` when the task has neither.
   * Apart from `status`: a run can complete with a claim that is not verified.
   */
  verified: boolean | null;
  /** Why it is or is not verified; `null` when `verified` is `null`. */
  verificationReason: string | null;
}
