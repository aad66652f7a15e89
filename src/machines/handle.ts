import { assertEvent, assign, cancel, emit, enqueueActions, fromPromise, sendParent, setup } from 'xstate';
import type { HandBackReason, HandleStatus, RunStats } from '../types.js';
import { settleTurns } from './conversation.js';
import { addUsage, sumUsage } from '../usage.js';
import { budgetStateOf, overrun } from './budget.js';
import { NONE, NO_RESULTS, ended, newRunJournal, overBudget, runFailure, settled, stopDiagnostic, touched } from './handle-helpers.js';
import type { HandleContext, HandleEmitted, HandleEvent, HandleInput, HandleToSupervisorEvent, RunEnding, RunReport, RunRequest, RunResult } from './handle-types.js';

export type * from './handle-types.js';
export { advanceRevision, errorCodeOf, errorText, newRunJournal, stopDiagnostic } from './handle-helpers.js';

/** Ids of the limit timers, so leaving the state cancels them. */
const CHILD_TIMEOUT_ID = 'limit.childTimeout';
const STALE_TIMEOUT_ID = 'limit.staleTimeout';
const DEADLINE_ID = 'limit.deadline';

/** An interrupted run's ending: the interrupt's reason, when it gave one, is the run's error. */
const interruptEnding = ({ event }: { event: HandleEvent }): RunEnding =>
  event.type === 'RUN.INTERRUPT' && event.reason !== undefined ? { outcome: 'interrupted', error: event.reason } : { outcome: 'interrupted' };

/**
 * One subagent handle. Statuses are the top-level states (`running` has two
 * substates: waiting for a concurrency slot, and working). The run is an
 * invoked actor, so leaving `working` aborts it by construction; its
 * done/error events can only be taken while `working`, and the limits (child
 * timeout, stale detection, token budget) are transitions out of `working`:
 * a limit ends the run at the limit whatever the work does, and a late
 * settlement has nowhere to land. Exactly one outcome per started run.
 */
export const handleMachine = setup({
  types: {
    context: {} as HandleContext,
    events: {} as HandleEvent,
    input: {} as HandleInput,
    emitted: {} as HandleEmitted,
  },
  actors: {
    // The runtime provides the real run; this default never settles.
    agentRun: fromPromise<RunResult, RunRequest>(() => new Promise<RunResult>(() => {})),
  },
  actions: {
    requestSlot: sendParent(({ context }): HandleToSupervisorEvent => ({
      type: 'SLOT.REQUEST',
      key: context.spec.key,
      parentId: context.spec.parentId,
      slotSeq: context.slotSeq,
    })),
    releaseSlot: sendParent(({ context }): HandleToSupervisorEvent => ({
      type: 'SLOT.RELEASE',
      key: context.spec.key,
      parentId: context.spec.parentId,
      slotSeq: context.slotSeq,
    })),
    announceStatus: emit((_, params: { status: HandleStatus }) => ({ type: 'status' as const, status: params.status })),
    /**
     * Aborts the run in flight first thing when `working` is left, before the
     * run-end bookkeeping: the runtime provides it (the invoked actor's stop,
     * at the end of the step, would abort it too, only later).
     */
    abortRun: (_args, _params: undefined) => {},
    nextSlotRequest: assign({ slotSeq: ({ context }) => context.slotSeq + 1 }),
    takeInput: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      return { current: event.input, results: { ...context.results, lastInput: event.input.message }, ...touched() };
    }),
    enqueueInput: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      return { inputs: { ...context.inputs, queue: [...context.inputs.queue, event.input] }, ...touched() };
    }),
    /** An interrupting input waiting for a slot goes first; the one it displaces goes back to the queue's head. */
    jumpQueue: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      const queue = context.current ? [context.current, ...context.inputs.queue] : context.inputs.queue;
      return { current: event.input, results: { ...context.results, lastInput: event.input.message }, inputs: { ...context.inputs, queue }, ...touched() };
    }),
    takeQueuedInput: assign(({ context }) => {
      const [next, ...rest] = context.inputs.queue;
      return { current: next ?? null, results: { ...context.results, lastInput: next?.message ?? null }, inputs: { ...context.inputs, queue: rest }, ...touched() };
    }),
    /** The current input had not started: it is still unprocessed, so it keeps its place. */
    requeueCurrent: assign(({ context }) => ({
      inputs: { ...context.inputs, queue: context.current ? [context.current, ...context.inputs.queue] : context.inputs.queue },
      current: null,
      ...touched(),
    })),
    /**
     * The limits are delayed events the chart raises to itself, scheduled only
     * when the limit is set and cancelled when the state is left: a run ends
     * at its limit by a transition, and an unset limit costs no timer.
     */
    armChildTimeout: enqueueActions(({ context, enqueue }) => {
      const limit = context.spec.limits.childTimeoutMs;
      if (limit !== null) enqueue.raise({ type: 'LIMIT.CHILD_TIMEOUT' }, { delay: limit, id: CHILD_TIMEOUT_ID });
    }),
    // Only an armed limit is disarmed: a cancel costs the scheduler a lookup and two deletes.
    disarmChildTimeout: enqueueActions(({ context, enqueue }) => {
      if (context.spec.limits.childTimeoutMs !== null) enqueue.cancel(CHILD_TIMEOUT_ID);
    }),
    armStaleTimeout: enqueueActions(({ context, enqueue }) => {
      const limit = context.spec.limits.staleTimeoutMs;
      if (limit !== null) enqueue.raise({ type: 'LIMIT.STALE' }, { delay: limit, id: STALE_TIMEOUT_ID });
    }),
    disarmStaleTimeout: enqueueActions(({ context, enqueue }) => {
      if (context.spec.limits.staleTimeoutMs !== null) enqueue.cancel(STALE_TIMEOUT_ID);
    }),
    /** The deadline is a date: a run that starts past it ends at once, and `DEADLINE.SET` moves it. */
    armDeadline: enqueueActions(({ context, enqueue }) => {
      const deadline = context.budget?.deadline ?? null;
      // A timer waits at most 2^31 - 1 ms: a later deadline is reached in steps.
      if (deadline !== null) enqueue.raise({ type: 'LIMIT.DEADLINE' }, { delay: Math.min(Math.max(0, deadline - Date.now()), 2 ** 31 - 1), id: DEADLINE_ID });
    }),
    disarmDeadline: enqueueActions(({ context, enqueue }) => {
      if (context.budget?.deadline != null) enqueue.cancel(DEADLINE_ID);
    }),
    // A moved deadline's timer goes whatever the new one is.
    cancelDeadline: cancel(DEADLINE_ID),
    holdBudget: assign(({ context, event }) => {
      assertEvent(event, 'BUDGET.HOLD');
      const budget = context.budget;
      return budget ? { budget: { ...budget, heldTokens: budget.heldTokens + event.tokens, heldCostUsd: budget.heldCostUsd + event.costUsd } } : {};
    }),
    setDeadline: assign(({ context, event }) => {
      assertEvent(event, 'DEADLINE.SET');
      const budget = context.budget ?? { tokens: null, costUsd: null, price: null, deadline: null, heldTokens: 0, heldCostUsd: 0 };
      return { budget: { ...budget, deadline: event.deadline }, ...touched() };
    }),
    startRun: enqueueActions(({ context, enqueue }) => {
      const runId = context.results.runsStarted + 1;
      enqueue.assign({ results: { ...context.results, runsStarted: runId, error: null }, run: newRunJournal(context.spec.model), ...touched() });
      if (context.current) enqueue.emit({ type: 'run-start', runId, input: context.current });
    }),
    /** Folds the run's journal into the handle and reports its one outcome. */
    endRun: enqueueActions(({ context, enqueue }, ending: RunEnding) => {
      const journal = context.run ?? newRunJournal(context.spec.model);
      const input = context.current ?? { seq: 0, message: '' };
      const completed = ending.outcome === 'completed';
      // A copy: a run stopped from outside may still write to its journal; what it wrote after is not kept.
      const stats: RunStats = { ...journal.stats, usage: { ...journal.stats.usage }, toolTrace: [...journal.stats.toolTrace] };
      if (completed && ending.result?.usage) {
        addUsage(stats.usage, ending.result.usage);
      }
      const report: RunReport = {
        runId: context.results.runsStarted,
        input,
        outcome: ending.outcome,
        output: completed ? (ending.result?.output ?? '') : null,
        partialOutput: completed ? null : journal.partialOutput,
        error: completed ? null : (ending.error ?? null),
        errorCode: completed ? null : (ending.errorCode ?? null),
        details: completed ? ending.result?.details : undefined,
        stats,
        durationMs: performance.now() - stats.startedAt,
      };
      const results = context.results;
      enqueue.assign({
        results: {
          ...results,
          runsEnded: results.runsEnded + 1,
          lastRun: report,
          ...(completed ? { lastOutput: report.output } : {}),
          error: report.error,
          usage: sumUsage(results.usage, stats.usage),
          conversation: journal.messages.length > 0 ? [...results.conversation, ...settleTurns(journal.messages, ending.outcome)] : results.conversation,
        },
        current: null,
        run: null,
        ...touched(),
      });
      enqueue.emit({ type: 'run-end', ...report });
      enqueue.emit({ type: 'input-end', input, run: report, handedBack: null });
    }),
    /** Hands back the queue (and, for a run not yet started, the current input) to the caller. */
    handBackInputs: enqueueActions(({ context, enqueue }, params: { reason: HandBackReason; withCurrent: boolean }) => {
      const returned = params.withCurrent && context.current ? [context.current, ...context.inputs.queue] : context.inputs.queue;
      for (const input of returned) enqueue.emit({ type: 'input-end', input, run: null, handedBack: params.reason });
      enqueue.assign({ inputs: { ...context.inputs, returned, queue: NONE }, ...(params.withCurrent ? { current: null } : {}), ...touched() });
    }),
    rememberStatus: assign(({ context }, params: { status: HandleStatus }) => ({ inputs: { ...context.inputs, previousStatus: params.status } })),
    touch: assign(() => touched()),
  },
  guards: {
    isInterrupting: ({ event }) => event.type === 'INPUT.SEND' && event.interrupt,
    hasQueuedInput: ({ context }) => context.inputs.queue.length > 0,
    isCurrentSlot: ({ context, event }) => event.type === 'SLOT.GRANTED' && event.slotSeq === context.slotSeq,
    isDelegated: ({ context }) => context.spec.delegated,
    overBudget: ({ context }) => overrun(context) !== null,
    deadlineReached: ({ context }) => context.budget?.deadline != null && Date.now() >= context.budget.deadline,
    isWaiting: ({ event }) => event.type === 'RUN.PROGRESS' && event.waiting === true,
    isNotWaiting: ({ event }) => event.type === 'RUN.PROGRESS' && event.waiting === false,
  },
}).createMachine({
  id: 'handle',
  context: ({ input }) => {
    const { updatedAt, revision } = touched();
    return {
      spec: input,
      revision,
      updatedAt,
      current: null,
      slotSeq: 0,
      run: null,
      budget: budgetStateOf(input.budget),
      results: NO_RESULTS,
      inputs: { queue: NONE, returned: NONE, previousStatus: null, createdAt: updatedAt },
    };
  },
  on: {
    'BUDGET.HOLD': { actions: 'holdBudget' },
    'DEADLINE.SET': { actions: 'setDeadline' },
  },
  initial: 'idle',
  // Close works from every open status; each status says what closing it means.
  states: {
    idle: settled('idle'),
    running: {
      entry: ['nextSlotRequest', { type: 'announceStatus', params: { status: 'running' } }],
      exit: 'releaseSlot',
      initial: 'awaitingSlot',
      states: {
        awaitingSlot: {
          entry: 'requestSlot',
          on: {
            'SLOT.GRANTED': { guard: 'isCurrentSlot', target: 'working' },
            'INPUT.SEND': [{ guard: 'isInterrupting', actions: 'jumpQueue' }, { actions: 'enqueueInput' }],
            'RUN.INTERRUPT': [
              // A delegation's child has nobody to resume it: what it holds ends here, handed back.
              {
                guard: 'isDelegated',
                target: '#handle.interrupted',
                actions: { type: 'handBackInputs', params: { reason: 'interrupted', withCurrent: true } },
              },
              { target: '#handle.interrupted', actions: 'requeueCurrent' },
            ],
            'RUN.CANCEL': { target: '#handle.cancelled', actions: { type: 'handBackInputs', params: { reason: 'cancelled', withCurrent: true } } },
            'HANDLE.CLOSE': {
              target: '#handle.closed',
              actions: [
                { type: 'rememberStatus', params: { status: 'running' } },
                { type: 'handBackInputs', params: { reason: 'closed', withCurrent: true } },
              ],
            },
          },
        },
        working: {
          entry: ['startRun', 'armChildTimeout', 'armDeadline'],
          exit: ['abortRun', 'disarmChildTimeout', 'disarmDeadline'],
          invoke: {
            id: 'agentRun',
            src: 'agentRun',
            input: ({ context }): RunRequest => ({
              handleId: context.spec.id,
              runId: context.results.runsStarted,
              message: context.current?.message ?? '',
              conversation: context.results.conversation,
              journal: context.run ?? newRunJournal(context.spec.model),
            }),
            onDone: [
              {
                guard: 'hasQueuedInput',
                target: '#handle.running',
                reenter: true,
                actions: [{ type: 'endRun', params: ({ event }) => ({ outcome: 'completed', result: event.output }) }, 'takeQueuedInput'],
              },
              { target: '#handle.completed', actions: { type: 'endRun', params: ({ event }) => ({ outcome: 'completed', result: event.output }) } },
            ],
            onError: [
              {
                guard: 'hasQueuedInput',
                target: '#handle.running',
                reenter: true,
                actions: [{ type: 'endRun', params: ({ event }) => runFailure(event.error) }, 'takeQueuedInput'],
              },
              { target: '#handle.error', actions: { type: 'endRun', params: ({ event }) => runFailure(event.error) } },
            ],
          },
          initial: 'active',
          states: {
            active: {
              entry: 'armStaleTimeout',
              exit: 'disarmStaleTimeout',
              on: {
                'LIMIT.STALE': ended(({ context }) => ({
                  outcome: 'timeout',
                  error: `The run made no model or tool progress for ${context.spec.limits.staleTimeoutMs} ms (staleTimeoutMs) and was stopped${stopDiagnostic(context.run)}`,
                })),
                'RUN.PROGRESS': [
                  ...ended(overBudget, 'overBudget'),
                  { guard: 'isWaiting', target: 'waiting' },
                  // Progress re-arms stale detection.
                  { target: 'active', reenter: true },
                ],
              },
            },
            // Waiting for its own background children is not being stale.
            waiting: {
              on: {
                'RUN.PROGRESS': [...ended(overBudget, 'overBudget'), { guard: 'isNotWaiting', target: 'active' }],
              },
            },
          },
          on: {
            'LIMIT.CHILD_TIMEOUT': ended(({ context }) => ({
              outcome: 'timeout',
              error: `The run exceeded childTimeoutMs (${context.spec.limits.childTimeoutMs} ms) and was stopped${stopDiagnostic(context.run)}`,
            })),
            'LIMIT.DEADLINE': [
              ...ended(
                ({ context }) => ({
                  outcome: 'timeout',
                  error: `The handle missed its deadline (${new Date(context.budget?.deadline ?? 0).toISOString()}) and its run was stopped${stopDiagnostic(context.run)}`,
                  errorCode: 'deadline',
                }),
                'deadlineReached',
              ),
              { actions: 'armDeadline' },
            ],
            'DEADLINE.SET': { actions: ['setDeadline', 'cancelDeadline', 'armDeadline'] },
            // Aborts the run in place and starts the new input at once, keeping the slot.
            'INPUT.SEND': [
              {
                guard: 'isInterrupting',
                target: 'working',
                reenter: true,
                actions: [{ type: 'endRun', params: { outcome: 'interrupted' } }, 'takeInput'],
              },
              { actions: 'enqueueInput' },
            ],
            'RUN.INTERRUPT': [
              {
                guard: 'isDelegated',
                target: '#handle.interrupted',
                actions: [
                  { type: 'endRun', params: interruptEnding },
                  { type: 'handBackInputs', params: { reason: 'interrupted', withCurrent: false } },
                ],
              },
              { target: '#handle.interrupted', actions: { type: 'endRun', params: interruptEnding } },
            ],
            'RUN.CANCEL': {
              target: '#handle.cancelled',
              actions: [
                { type: 'endRun', params: { outcome: 'cancelled', error: 'The run was cancelled' } },
                { type: 'handBackInputs', params: { reason: 'cancelled', withCurrent: false } },
              ],
            },
            'HANDLE.CLOSE': {
              target: '#handle.closed',
              actions: [
                { type: 'endRun', params: { outcome: 'cancelled', error: 'The handle was closed during the run' } },
                { type: 'rememberStatus', params: { status: 'running' } },
                { type: 'handBackInputs', params: { reason: 'closed', withCurrent: false } },
              ],
            },
          },
        },
      },
    },
    completed: settled('completed'),
    error: settled('error'),
    interrupted: {
      entry: { type: 'announceStatus', params: { status: 'interrupted' } },
      on: {
        // The new input runs first; inputs kept from before follow it.
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.RESUME': [{ guard: 'hasQueuedInput', target: 'running', actions: 'takeQueuedInput' }, { target: 'idle', actions: 'touch' }],
        'RUN.CANCEL': { target: 'cancelled', actions: { type: 'handBackInputs', params: { reason: 'cancelled', withCurrent: false } } },
        'HANDLE.CLOSE': {
          target: 'closed',
          actions: [
            { type: 'rememberStatus', params: { status: 'interrupted' } },
            { type: 'handBackInputs', params: { reason: 'closed', withCurrent: false } },
          ],
        },
      },
    },
    cancelled: settled('cancelled'),
    closed: {
      entry: { type: 'announceStatus', params: { status: 'closed' } },
      // Takes no input: the runtime refuses sends to a closed handle with HandleClosedError.
      on: {
        'HANDLE.RESUME': { target: 'idle', actions: 'touch' },
      },
    },
  },
});

export type HandleMachine = typeof handleMachine;
