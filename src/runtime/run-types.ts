/**
 * What a run gets and returns: the contract between the runtime and the
 * work a handle does for each input. Types only.
 */
import type { HandleInput } from '../machines/handle.js';
import type { ChatMessage, RunDetails, RunStats, Usage } from '../types.js';
import type { AnyTool, ApprovalAsk, ApprovalDecision } from '../toolkit/define-tool.js';
import type { RuntimeEvent, SubagentRef } from './events.js';

/** The static facts of a handle a run may need. */
export type RunHandleInfo = Omit<HandleInput, 'key' | 'limits' | 'delegated'>;

/** Progress a run reports; the runtime adds who it is about. */
export type RunProgressEvent = Extract<
  RuntimeEvent,
  { type: 'text-delta' | 'thinking-delta' | 'tool-call-start' | 'tool-call-end' | 'model-call-end' }
> extends infer E
  ? E extends RuntimeEvent
    ? Omit<E, keyof SubagentRef | 'runId'>
    : never
  : never;

/** What a run gets beside its input; `R` is the runtime it is given (`RunContext` is the one of `createRuntime`). */
export interface RunContextOf<R> {
  /** Fires when the run is interrupted, cancelled, closed, timed out or shut down: pass it to every request. */
  signal: AbortSignal;
  handle: RunHandleInfo;
  runId: number;
  /** The working directory of this run, absolute (its worktree, with worktree isolation). */
  cwd: string;
  /** The handle's conversation before this run (earlier runs, whatever their outcome). */
  conversation: readonly ChatMessage[];
  /** Reports progress as a runtime event; progress also re-arms stale detection. */
  emit: (event: RunProgressEvent) => void;
  /**
   * The tokens the run may still spend (the handle's budget remainder and
   * `maxRunTokens`' together), live; `null` when unbounded. Give it to the
   * model loop so requests ask for no more.
   */
  tokensLeft: () => number | null;
  /** Adds spend as it happens, so it is kept (and budgeted) even if the run is stopped. */
  reportUsage: (usage: Usage) => void;
  /** Adds a complete message to the handle's conversation: kept whatever the run's outcome. */
  record: (message: ChatMessage) => void;
  /** The text produced so far that is not yet an answer (reported as `partialOutput` if the run does not complete). */
  setPartialOutput: (text: string | null) => void;
  /** Tells the handle the run is alive; `waiting: true` while it waits for its own background children (not stale). */
  progress: (state?: { waiting?: boolean }) => void;
  /**
   * Asks the host to approve a call (tools that declare `needsApproval` are
   * asked for by the model loop): the handle's snapshot shows
   * `awaitingApproval` and stale detection pauses while it waits. Resolves
   * with the decision; never rejects. Give it to your tools as
   * `ToolContext.requestApproval` when your run calls them itself.
   */
  requestApproval: (ask: ApprovalAsk) => Promise<ApprovalDecision>;
  /** The tools the handle may call (its setup's, resolved by name); empty for a handle spawned without a setup. */
  tools: readonly AnyTool[];
  /** What the run did so far; folded into the handle when the run ends, whatever the outcome. Update it in place. */
  stats: RunStats;
  /** The runtime itself, so an orchestrator's run can delegate further. */
  runtime: R;
}

/** What a run may return: its output text, or the text with usage and details. */
export type AgentRunResult = string | { output: string; usage?: Usage; details?: RunDetails };

/** The work a handle does for one input. Should honour `context.signal`; a limit ends the run regardless. */
export type RunOf<R> = (input: string, context: RunContextOf<R>) => Promise<AgentRunResult>;

/** The event passed to `onSubagentStart` / `onSubagentStop`. */
export type SubagentStartEvent = Extract<RuntimeEvent, { type: 'run-start' }>;
export type SubagentStopEvent = Extract<RuntimeEvent, { type: 'run-end' }>;

