/** The shapes of the handle chart: its spawn input, context, events, what it emits, and a run's journal and report. */
import type { BudgetGrant, BudgetState } from './budget.js';
import type { ChatMessage, HandBackReason, HandleSetup, OnParentStop, RunDetails, HandleStatus, QueuedInput, Role, RunLimits, RunOutcome, RunStats, Usage } from '../types.js';

/** The static facts of a handle, fixed when the supervisor spawns it. */
export interface HandleInput {
  /** Public id (nanoid or nickname). */
  id: string;
  /** XState child id under the supervisor: integer-like for O(1) child bookkeeping. */
  key: string;
  name: string;
  parentId: string | null;
  depth: number;
  role: Role;
  agentType: string;
  model: string | null;
  goal: string | null;
  /** Limits on each run: transitions of this chart. */
  limits: RunLimits;
  /**
   * A delegation's child: nobody resumes it, so an input interrupted before
   * it started ends there (handed back) instead of waiting in the queue.
   */
  delegated: boolean;
  /** Whether a stop of its parent stops it (the supervisor's cascade reads it); absent in stores written before it existed: `'cascade'`. */
  onParentStop?: OnParentStop;
  /** How its runs work (prompt, tools by name, model, provider): the run strategy's, opaque to the chart. */
  setup: HandleSetup | null;
  /** What its spawn reserved for it, and its deadline. @default none */
  budget?: BudgetGrant | null;
}

/**
 * What a run writes as it goes, in the handle's context: the chart folds it
 * into the handle when the run ends, however it ends, so a run stopped from
 * outside keeps its spend, its complete turns and its partial text. Only the
 * run in flight writes it; once the run has ended, it is a copy nobody reads.
 */
export interface RunJournal {
  stats: RunStats;
  /** Messages the run added to the conversation: complete turns only. */
  messages: ChatMessage[];
  /** Text produced so far that is not (yet) a finished answer. */
  partialOutput: string | null;
  /** What the run is doing now: read by progress events, snapshots and the diagnostic of a timeout. */
  activity: RunActivity;
}

/** What a run is doing now. Times are `performance.now()` values. */
export interface RunActivity {
  /** The run's last sign of life: a chunk, a tool call starting or ending, spend. */
  lastActivityAt: number;
  /** The tool call running now (the last one started, with several at once). */
  currentTool: { name: string; callId: string; startedAt: number } | null;
  /** When the run's last model call ended; `null` before the first. */
  lastModelCallEndedAt: number | null;
  /** The last characters of text the model produced (bounded, secrets redacted). */
  textTail: string;
  /** The approval request the run waits for. */
  awaitingApproval: { requestId: string; tool: string } | null;
}

/** What the run actor receives for one run. */
export interface RunRequest {
  handleId: string;
  runId: number;
  message: string;
  /** The conversation before this run (the run reads it; the chart extends it). */
  conversation: readonly ChatMessage[];
  journal: RunJournal;
}

/** What a run resolves with. */
export interface RunResult {
  output: string;
  usage?: Usage;
  /** Anything else the run reports, as plain JSON (kept as the last run's details). */
  details?: RunDetails;
}

/** One run's end, as the chart reports it. */
export interface RunReport {
  runId: number;
  input: QueuedInput;
  outcome: RunOutcome;
  /** The answer: only when the run completed. */
  output: string | null;
  /** Text produced before the run ended without completing; never an answer. */
  partialOutput: string | null;
  error: string | null;
  /** The `code` of what the run threw, when it had one (`max_iterations`, `model_output`, …). */
  errorCode: string | null;
  /** Whatever the run returned beside its output, when it completed. */
  details: RunDetails | undefined;
  /** What the run did, whatever its outcome. */
  stats: RunStats;
  durationMs: number;
}

/** Events the chart emits (listen with `actor.on`). */
export type HandleEmitted =
  | { type: 'run-start'; runId: number; input: QueuedInput }
  | ({ type: 'run-end' } & RunReport)
  /** Every accepted input ends exactly once: processed by a run, or handed back. */
  | { type: 'input-end'; input: QueuedInput; run: RunReport | null; handedBack: HandBackReason | null }
  | { type: 'status'; status: HandleStatus };

/**
 * The handle's context, in a few top-level fields so that it stays in V8's
 * fast mode: each `assign` copies the top level, and a group is copied only
 * when it changes. The fields a transition sets (the input, the slot, the
 * run's journal, the recency) are top level; what a run's end sets is in
 * `results`; what changes rarely is in `inputs`.
 */
export interface HandleContext {
  spec: HandleInput;
  /** Grows with every change of any handle in this process: orders handles by recency. */
  revision: number;
  /** Epoch milliseconds of the last change. */
  updatedAt: number;
  /** The input being worked on, or waiting for a slot, while `running`. */
  current: QueuedInput | null;
  /** Identifies the handle's current slot request; stale grants are ignored. */
  slotSeq: number;
  /** What the run in flight has done so far; `null` when no run is in flight. */
  run: RunJournal | null;
  /** Its budget, what its children hold, and its deadline; `null` with none. */
  budget: BudgetState | null;
  /** What its runs did: set when a run starts or ends. */
  results: HandleResults;
  /** Its waiting and handed-back inputs, and the facts that rarely change. */
  inputs: HandleInputs;
}

/** What a handle's runs did, in its context. */
export interface HandleResults {
  lastInput: string | null;
  lastOutput: string | null;
  error: string | null;
  /** The last run that ended. */
  lastRun: RunReport | null;
  usage: Usage;
  /** Runs started (a run starts when its slot is granted). */
  runsStarted: number;
  /** Runs ended: each started run ends exactly once. */
  runsEnded: number;
  /** The conversation: kept across runs, whatever their outcome. */
  conversation: readonly ChatMessage[];
}

/** A handle's inputs waiting and handed back, and what rarely changes, in its context. */
export interface HandleInputs {
  /** Inputs waiting, FIFO. The current input is not in it. */
  queue: readonly QueuedInput[];
  /** Inputs handed back by the last cancel or close. */
  returned: readonly QueuedInput[];
  /** Status before the last close. */
  previousStatus: HandleStatus | null;
  /** Epoch milliseconds. */
  createdAt: number;
}

export type HandleEvent =
  | { type: 'INPUT.SEND'; input: QueuedInput; interrupt: boolean }
  /** `reason` is recorded as the run's error (a restore says "lost on restart"); none for a plain interrupt. */
  | { type: 'RUN.INTERRUPT'; reason?: string }
  | { type: 'RUN.CANCEL' }
  | { type: 'HANDLE.CLOSE' }
  | { type: 'HANDLE.RESUME' }
  | { type: 'SLOT.GRANTED'; slotSeq: number }
  /**
   * The run made progress (sent at most every 250 ms, and at once when its
   * spend passes the token limit): re-arms stale detection and checks the
   * budget. `waiting` while it waits for its own background children, which
   * is not being stale.
   */
  | { type: 'RUN.PROGRESS'; waiting?: boolean }
  /** Raised by the chart itself, after `childTimeoutMs` in `working` (when set). */
  | { type: 'LIMIT.CHILD_TIMEOUT' }
  /** Raised by the chart itself, after `staleTimeoutMs` without progress in `working.active` (when set). */
  | { type: 'LIMIT.STALE' }
  /** Raised by the chart itself at its deadline, in `working`. */
  | { type: 'LIMIT.DEADLINE' }
  /** Its children's hold on its budget changed by this much (a reservation, or a settlement at a child's close). */
  | { type: 'BUDGET.HOLD'; tokens: number; costUsd: number }
  /** A new deadline (epoch milliseconds): `extendDeadline`. */
  | { type: 'DEADLINE.SET'; deadline: number };

/** Events a handle sends its parent (the supervisor). */
export type HandleToSupervisorEvent =
  | { type: 'SLOT.REQUEST'; key: string; parentId: string | null; slotSeq: number }
  | { type: 'SLOT.RELEASE'; key: string; parentId: string | null; slotSeq: number };

/** How a run ends, as the chart decides it: the outcome and what goes with it. */
export interface RunEnding {
  outcome: RunOutcome;
  result?: RunResult;
  error?: string;
  errorCode?: string | null;
}
