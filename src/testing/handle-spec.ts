import type { HandleEvent, RunResult } from '../machines/handle.js';
import type { HandBackReason, HandleStatus, RunOutcome } from '../types.js';

/**
 * The expected behaviour of one handle, written from the handle semantics of
 * the spec (not from the chart, which it never imports): a transition table
 * over a small model state. Our model-based test replays the same events on
 * the real chart and on this table and compares them after every step; the
 * lifecycle kit of `subagents/testing` walks it to generate and check paths.
 */

/** The run's done and error events, as XState names them for the invoke with id `agentRun`. */
export type RunDoneEvent = { type: 'xstate.done.actor.agentRun'; output: RunResult };
export type RunErrorEvent = { type: 'xstate.error.actor.agentRun'; error: unknown };

/** The limit timers: delayed events the handle raises to itself while a run is in flight (only for a limit that is set). */
export const CHILD_TIMEOUT = 'LIMIT.CHILD_TIMEOUT';
export const STALE_TIMEOUT = 'LIMIT.STALE';
export type TimerEvent = { type: typeof CHILD_TIMEOUT } | { type: typeof STALE_TIMEOUT };

/** The run writes its spend so far (input + output tokens) into its journal, then reports progress. */
export type SpendEvent = { type: 'RUN.PROGRESS'; spentTokens: number };

/** Every event a test step delivers. */
export type ModelEvent = HandleEvent | RunDoneEvent | RunErrorEvent | TimerEvent | SpendEvent;

/**
 * A spend step: the run has spent `spentTokens` so far.
 *
 * @example
 * ```ts
 * isSpend({ type: 'RUN.PROGRESS', spentTokens: 6 }); // true
 * ```
 */
export const isSpend = (event: ModelEvent): event is SpendEvent => event.type === 'RUN.PROGRESS' && 'spentTokens' in event;
/**
 * The run's own done or error event.
 *
 * @example
 * ```ts
 * isRunSettlement({ type: 'xstate.error.actor.agentRun', error: new Error('boom') }); // true
 * ```
 */
export const isRunSettlement = (event: ModelEvent): event is RunDoneEvent | RunErrorEvent =>
  event.type === 'xstate.done.actor.agentRun' || event.type === 'xstate.error.actor.agentRun';

/** Where a running handle is: waiting for a concurrency slot, or working (reporting progress, or waiting for its own children). */
export type RunningPhase = 'awaitingSlot' | 'active' | 'waiting';

export interface OracleSpec {
  /**
   * A delegation's child: nobody resumes it, so an interrupt hands back what it
   * holds (its queue, and an input whose run had not started) instead of keeping it.
   */
  delegated: boolean;
  /** Tokens one run may spend; a run past it ends in `error`. */
  maxRunTokens: number | null;
}

export interface OracleState {
  status: HandleStatus;
  /** Only while `running`. */
  phase: RunningPhase | null;
  /** Messages of the queued inputs, FIFO; the current input is not in it. */
  queue: string[];
  current: string | null;
  /** Slot requests made so far: each entry into `running` makes one. */
  slotSeq: number;
  runsStarted: number;
  runsEnded: number;
  lastOutcome: RunOutcome | null;
  previousStatus: HandleStatus | null;
  /** Handed back by the last cancel or close. */
  returned: string[];
  /** Tokens the run in flight has reported. */
  spent: number;
  /** Tokens of the runs that ended, folded into the handle. */
  usage: number;
}

/** What one step does: the state after it, the events the handle emits, and its messages to the supervisor, in order. */
export interface OracleStep {
  state: OracleState;
  emitted: string[];
  slotMessages: string[];
}

/**
 * A handle just spawned: idle, nothing queued, no run.
 *
 * @example
 * ```ts
 * const state = initialOracleState(); // state.status === 'idle'
 * ```
 */
export const initialOracleState = (): OracleState => ({
  status: 'idle',
  phase: null,
  queue: [],
  current: null,
  slotSeq: 0,
  runsStarted: 0,
  runsEnded: 0,
  lastOutcome: null,
  previousStatus: null,
  returned: [],
  spent: 0,
  usage: 0,
});

export const LIMIT_NAMES = ['childTimeoutMs', 'staleTimeoutMs', 'maxRunTokens'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** The emitted events as the test compares them: one line each. */
export const describeEvent = {
  status: (status: HandleStatus) => `status ${status}`,
  runStart: (runId: number, message: string) => `run-start #${runId} ${JSON.stringify(message)}`,
  /** A run ended at a limit says which limit in its error. */
  runEnd: (runId: number, outcome: RunOutcome, message: string, output: string | null, limit: LimitName | null) =>
    `run-end #${runId} ${outcome}${limit === null ? '' : ` at ${limit}`} ${JSON.stringify(message)}${output === null ? '' : ` -> ${JSON.stringify(output)}`}`,
  processed: (message: string, runId: number, outcome: RunOutcome) => `input-end ${JSON.stringify(message)} processed by #${runId} (${outcome})`,
  handedBack: (message: string, reason: HandBackReason) => `input-end ${JSON.stringify(message)} handed back (${reason})`,
  slotRequest: (slotSeq: number) => `SLOT.REQUEST ${slotSeq}`,
  slotRelease: (slotSeq: number) => `SLOT.RELEASE ${slotSeq}`,
};

/**
 * The state node the handle is in, spelled like the chart's state value.
 *
 * @example
 * ```ts
 * nodeOf(initialOracleState()); // 'idle'
 * ```
 */
export function nodeOf(state: OracleState): string {
  if (state.status !== 'running') return state.status;
  return state.phase === 'awaitingSlot' ? 'running.awaitingSlot' : `running.working.${state.phase}`;
}

/**
 * A run is in flight (running, its slot granted).
 *
 * @example
 * ```ts
 * isWorkingState(initialOracleState()); // false
 * ```
 */
export const isWorkingState = (state: OracleState) => state.status === 'running' && state.phase !== 'awaitingSlot';

/**
 * The expected step: the rules of the handle semantics, state by state.
 *
 * @example
 * ```ts
 * const spec = { delegated: false, maxRunTokens: null };
 * const sent = oracleStep(initialOracleState(), { type: 'INPUT.SEND', input: { seq: 0, message: 'hi' }, interrupt: false }, spec);
 * // sent.state.status === 'running' (waiting for a slot); sent.slotMessages is ['SLOT.REQUEST 1']
 * ```
 */
export function oracleStep(before: OracleState, event: ModelEvent, spec: OracleSpec): OracleStep {
  const s: OracleState = { ...before, queue: [...before.queue], returned: [...before.returned] };
  const emitted: string[] = [];
  const slotMessages: string[] = [];

  const enterStatus = (status: HandleStatus) => {
    s.status = status;
    s.phase = null;
    emitted.push(describeEvent.status(status));
  };
  /** Every entry into `running` is a new slot request for the input that becomes current. */
  const enterRunning = (message: string) => {
    s.current = message;
    s.slotSeq += 1;
    enterStatus('running');
    s.phase = 'awaitingSlot';
    slotMessages.push(describeEvent.slotRequest(s.slotSeq));
  };
  /** Leaving `running` always gives back the slot (or withdraws the request). */
  const leaveRunning = () => slotMessages.push(describeEvent.slotRelease(s.slotSeq));
  const startRun = () => {
    s.runsStarted += 1;
    s.spent = 0;
    s.phase = 'active';
    emitted.push(describeEvent.runStart(s.runsStarted, s.current ?? ''));
  };
  /** A started run ends exactly once: its outcome, then its input's end. */
  const endRun = (outcome: RunOutcome, output: string | null = null, limit: LimitName | null = null) => {
    const message = s.current ?? '';
    s.runsEnded += 1;
    s.lastOutcome = outcome;
    s.usage += s.spent;
    s.spent = 0;
    s.current = null;
    emitted.push(describeEvent.runEnd(s.runsStarted, outcome, message, output, limit), describeEvent.processed(message, s.runsStarted, outcome));
  };
  const handBack = (messages: string[], reason: HandBackReason) => {
    for (const message of messages) emitted.push(describeEvent.handedBack(message, reason));
    s.returned = messages;
    s.queue = [];
  };
  /** After a run ends by itself or at a limit: the next queued input asks for a slot anew, else the status says how it ended. */
  const goOn = (status: 'completed' | 'error') => {
    leaveRunning();
    const [next, ...rest] = s.queue;
    if (next === undefined) return enterStatus(status);
    s.queue = rest;
    enterRunning(next);
  };
  const close = () => {
    s.previousStatus = before.status;
    handBack(s.queue, 'closed');
    enterStatus('closed');
  };

  switch (before.status) {
    case 'idle':
    case 'completed':
    case 'error':
    case 'cancelled':
    case 'interrupted':
      if (event.type === 'INPUT.SEND') {
        // Inputs kept by an interrupt follow the new one.
        enterRunning(event.input.message);
      } else if (event.type === 'HANDLE.CLOSE') {
        close();
      } else if (before.status === 'interrupted' && event.type === 'HANDLE.RESUME') {
        const [next, ...rest] = s.queue;
        if (next === undefined) {
          enterStatus('idle');
        } else {
          s.queue = rest;
          enterRunning(next);
        }
      } else if (before.status === 'interrupted' && event.type === 'RUN.CANCEL') {
        handBack(s.queue, 'cancelled');
        enterStatus('cancelled');
      }
      break;
    case 'closed':
      // A closed handle takes no input (the runtime refuses sends); resume brings it back to idle.
      if (event.type === 'HANDLE.RESUME') enterStatus('idle');
      break;
    case 'running':
      if (before.phase === 'awaitingSlot') awaitingSlot();
      else working();
      break;
  }
  return { state: s, emitted, slotMessages };

  function awaitingSlot(): void {
    switch (event.type) {
      case 'SLOT.GRANTED':
        if (event.slotSeq === s.slotSeq) startRun();
        return;
      case 'INPUT.SEND':
        if (event.interrupt) {
          if (s.current !== null) s.queue.unshift(s.current);
          s.current = event.input.message;
        } else {
          s.queue.push(event.input.message);
        }
        return;
      case 'RUN.INTERRUPT':
        // No run started, so no outcome: the input waits again at the queue's head, or (delegated) it and the queue are handed back.
        if (spec.delegated) handBack(s.current === null ? s.queue : [s.current, ...s.queue], 'interrupted');
        else if (s.current !== null) s.queue.unshift(s.current);
        leaveRunning();
        s.current = null;
        enterStatus('interrupted');
        return;
      case 'RUN.CANCEL':
        leaveRunning();
        handBack(s.current === null ? s.queue : [s.current, ...s.queue], 'cancelled');
        s.current = null;
        enterStatus('cancelled');
        return;
      case 'HANDLE.CLOSE':
        leaveRunning();
        if (s.current !== null) s.queue.unshift(s.current);
        s.current = null;
        close();
        return;
      default:
        return;
    }
  }

  function working(): void {
    if (isSpend(event)) s.spent = event.spentTokens;
    switch (event.type) {
      case 'xstate.done.actor.agentRun':
        endRun('completed', event.output.output);
        return goOn('completed');
      case 'xstate.error.actor.agentRun':
        endRun('error');
        return goOn('error');
      case CHILD_TIMEOUT:
        endRun('timeout', null, 'childTimeoutMs');
        return goOn('error');
      case STALE_TIMEOUT:
        // No stale detection while the run waits for its own children.
        if (s.phase !== 'active') return;
        endRun('timeout', null, 'staleTimeoutMs');
        return goOn('error');
      case 'RUN.PROGRESS':
        if (spec.maxRunTokens !== null && s.spent > spec.maxRunTokens) {
          endRun('budget_exceeded', null, 'maxRunTokens');
          return goOn('error');
        }
        if (!isSpend(event) && event.waiting === true) s.phase = 'waiting';
        else if (!isSpend(event) && event.waiting === false) s.phase = 'active';
        // Plain progress re-arms stale detection while active; waiting is left only by `waiting: false`.
        return;
      case 'INPUT.SEND':
        if (!event.interrupt) {
          s.queue.push(event.input.message);
          return;
        }
        // The run is aborted and the new input starts at once on the same slot.
        endRun('interrupted');
        s.current = event.input.message;
        return startRun();
      case 'RUN.INTERRUPT':
        endRun('interrupted');
        // A delegation's child is not resumed: its queue is handed back; any other handle keeps it.
        if (spec.delegated) handBack(s.queue, 'interrupted');
        leaveRunning();
        return enterStatus('interrupted');
      case 'RUN.CANCEL':
        endRun('cancelled');
        leaveRunning();
        handBack(s.queue, 'cancelled');
        return enterStatus('cancelled');
      case 'HANDLE.CLOSE':
        endRun('cancelled');
        leaveRunning();
        return close();
      default:
        return;
    }
  }
}
