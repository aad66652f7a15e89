/**
 * The handle lifecycle as a user drives it: the steps of the handle API
 * (send, interrupt, cancel, close, resume) and what a run does (finish, fail),
 * each mapped onto the spec table of `handle-spec.ts`. Paths over it come from
 * `xstate/graph`, walking this model, never the chart.
 */
import { fromTransition } from 'xstate';
import { initialOracleState, isWorkingState, oracleStep } from './handle-spec.js';
import type { ModelEvent, OracleState } from './handle-spec.js';

/** Every step a lifecycle path can take, after the implicit first `spawn`. */
export const LIFECYCLE_STEPS = ['send', 'send(interrupt)', 'interrupt', 'cancel', 'close', 'resume', 'finish', 'fail'] as const;

/**
 * One step of a lifecycle path: a call on the handle API (`send`,
 * `send(interrupt)` for `send(id, message, { interrupt: true })`, `interrupt`,
 * `cancel`, `close`, `resume`), or the run in flight getting its model's
 * answer (`finish`) or a model failure (`fail`).
 */
export type LifecycleStep = (typeof LIFECYCLE_STEPS)[number];

/** A lifecycle path: the steps after `spawn`, in order. */
export type LifecyclePath = readonly LifecycleStep[];

/** Where one handle is, by the spec: its status, queue, current input and run counts. */
export type LifecycleState = OracleState;

/** What the spec expects of one step. */
export interface LifecycleExpectation {
  /** The state after the step. */
  state: LifecycleState;
  /** The handle API must throw (a send to a closed handle, a resume of a handle that is neither closed nor interrupted). */
  refused: boolean;
  /** The message a `send` step sends (`input-0`, `input-1`, …), else `null`. */
  input: string | null;
  /** The runtime events the step causes, one line each: `status …`, `run-start …`, `run-end …`, `input-end …`. */
  events: string[];
}

/**
 * The message the `n`th input of a path carries: the lowest number no input
 * of the handle holds, so the model stays finite and the order stays visible.
 */
function nextMessage(state: LifecycleState): string {
  const taken = new Set([...state.queue, state.current]);
  let seq = 0;
  while (taken.has(`input-${seq}`)) seq += 1;
  return `input-${seq}`;
}

function specEvent(state: LifecycleState, step: LifecycleStep): ModelEvent | null {
  switch (step) {
    case 'send':
    case 'send(interrupt)':
      return { type: 'INPUT.SEND', input: { seq: state.runsStarted + state.queue.length, message: nextMessage(state) }, interrupt: step === 'send(interrupt)' };
    case 'interrupt':
      return { type: 'RUN.INTERRUPT' };
    case 'cancel':
      return { type: 'RUN.CANCEL' };
    case 'close':
      return { type: 'HANDLE.CLOSE' };
    case 'resume':
      return { type: 'HANDLE.RESUME' };
    case 'finish':
      return isWorkingState(state) ? { type: 'xstate.done.actor.agentRun', output: { output: '' } } : null;
    case 'fail':
      return isWorkingState(state) ? { type: 'xstate.error.actor.agentRun', error: new Error('the model failed') } : null;
  }
}

/** A run-end line as the runtime can show it: without the input (its event has none) and the output (the user's run decides it). */
const RUN_END_DETAIL = /^(run-end #\d+ \S+(?: at \S+)?) .*$/;

/**
 * The expected effect of one step on one handle spawned with no message and
 * no limits, under a supervisor with a free run slot (a slot request is
 * granted at once): the spec table applied to the step.
 *
 * @example
 * ```ts
 * const sent = lifecycleStep(initialLifecycleState(), 'send');
 * const interrupted = lifecycleStep(sent.state, 'interrupt');
 * // interrupted.state.status === 'interrupted'; interrupted.events[0] === 'run-end #1 interrupted'
 * ```
 */
export function lifecycleStep(state: LifecycleState, step: LifecycleStep): LifecycleExpectation {
  const refused =
    ((step === 'send' || step === 'send(interrupt)') && state.status === 'closed') ||
    (step === 'resume' && state.status !== 'closed' && state.status !== 'interrupted');
  const event = specEvent(state, step);
  const input = event?.type === 'INPUT.SEND' ? event.input.message : null;
  if (refused || event === null) return { state, refused, input, events: [] };
  const spec = { delegated: false, maxRunTokens: null };
  let { state: next, emitted } = oracleStep(state, event, spec);
  while (next.status === 'running' && next.phase === 'awaitingSlot') {
    const granted = oracleStep(next, { type: 'SLOT.GRANTED', slotSeq: next.slotSeq }, spec);
    next = granted.state;
    emitted = [...emitted, ...granted.emitted];
  }
  return { state: next, refused, input, events: emitted.map((line) => line.replace(RUN_END_DETAIL, '$1')) };
}

/**
 * A handle just spawned, by the spec: idle, nothing queued, no run.
 *
 * @example
 * ```ts
 * const state = initialLifecycleState(); // state.status === 'idle'
 * ```
 */
export function initialLifecycleState(): LifecycleState {
  return initialOracleState();
}

/**
 * The expected states along a path, one per step, and the runtime events
 * the spawn itself causes (`status idle`).
 *
 * @example
 * ```ts
 * const steps = expectLifecycle(['send', 'finish']);
 * // steps.map((step) => step.state.status) is ['running', 'completed']
 * ```
 */
export function expectLifecycle(path: LifecyclePath): LifecycleExpectation[] {
  let state = initialLifecycleState();
  return path.map((step) => {
    const expectation = lifecycleStep(state, step);
    state = expectation.state;
    return expectation;
  });
}

/**
 * A path as a line you can read and paste: `spawn → send → interrupt → resume`.
 *
 * @example
 * ```ts
 * formatLifecyclePath(['send', 'send(interrupt)', 'close']); // 'spawn → send → send(interrupt) → close'
 * ```
 */
export function formatLifecyclePath(path: LifecyclePath): string {
  return ['spawn', ...path].join(' → ');
}

/** The spec as XState logic, so that `xstate/graph` can walk it: one event per step. */
export const lifecycleLogic = fromTransition(
  (state: LifecycleState, event: { type: LifecycleStep }) => lifecycleStep(state, event.type).state,
  initialLifecycleState,
);
