import { and, assertEvent, assign, cancel, emit, enqueueActions, fromPromise, sendParent, setup } from 'xstate';
import type { ChatMessage, HandBackReason, HandleStatus, QueuedInput, Role, RunLimits, RunOutcome, RunStats, Usage } from '../types.js';
import { settleTurns } from './conversation.js';

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
  /** Anything else the run reports (kept as the last run's details). */
  details?: unknown;
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
  details: unknown;
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

export interface HandleContext {
  spec: HandleInput;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last change. */
  updatedAt: number;
  /** Grows with every change of any handle in this process: orders handles by recency. */
  revision: number;
  /** Inputs waiting, FIFO. The current input is not in it. */
  queue: QueuedInput[];
  /** The input being worked on, or waiting for a slot, while `running`. */
  current: QueuedInput | null;
  lastInput: string | null;
  lastOutput: string | null;
  error: string | null;
  /** Status before the last close. */
  previousStatus: HandleStatus | null;
  /** Runs started (a run starts when its slot is granted). */
  runsStarted: number;
  /** Runs ended: each started run ends exactly once. */
  runsEnded: number;
  /** The last run that ended. */
  lastRun: RunReport | null;
  usage: Usage;
  /** Identifies the handle's current slot request; stale grants are ignored. */
  slotSeq: number;
  /** Inputs handed back by the last cancel or close. */
  returned: QueuedInput[];
  /** The conversation: kept across runs, whatever their outcome. */
  conversation: ChatMessage[];
  /** What the run in flight has done so far; `null` when no run is in flight. */
  run: RunJournal | null;
}

export type HandleEvent =
  | { type: 'INPUT.SEND'; input: QueuedInput; interrupt: boolean }
  | { type: 'RUN.INTERRUPT' }
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
  | { type: 'LIMIT.STALE' };

/** Events a handle sends its parent (the supervisor). */
export type HandleToSupervisorEvent =
  | { type: 'SLOT.REQUEST'; key: string; parentId: string | null; slotSeq: number }
  | { type: 'SLOT.RELEASE'; key: string; parentId: string | null; slotSeq: number };

/** Ids of the limit timers, so leaving the state cancels them. */
const CHILD_TIMEOUT_ID = 'limit.childTimeout';
const STALE_TIMEOUT_ID = 'limit.staleTimeout';

/**
 * Orders every change of every handle in this process: recency ("the handle
 * updated last") is read from it, never from the clock, whose milliseconds tie.
 */
let lastRevision = 0;

/** The fields every change of a handle sets: when (for people) and in which order (for code). */
const touched = () => ({ updatedAt: Date.now(), revision: (lastRevision += 1) });

/**
 * A thrown value as text, whatever it is: circular objects, BigInts and
 * throwing getters included. Never throws.
 */
export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name;
    if (typeof error === 'string') return error;
    if (typeof error === 'object' && error !== null) {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string' && message) return message;
    }
    return JSON.stringify(error, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)) ?? String(error);
  } catch {
    try {
      return `a thrown ${Object.prototype.toString.call(error).slice(8, -1)} that cannot be shown as text`;
    } catch {
      return 'a thrown value that cannot be shown as text';
    }
  }
}

/** The string `code` of a thrown value, if it has one. Never throws. */
export function errorCodeOf(error: unknown): string | null {
  try {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

export function newRunJournal(model: string | null): RunJournal {
  return {
    stats: { apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model, startedAt: performance.now() },
    messages: [],
    partialOutput: null,
  };
}

const tokensOf = (usage: Usage) => usage.inputTokens + usage.outputTokens;

/** How a run ends, as the chart decides it: the outcome and what goes with it. */
export interface RunEnding {
  outcome: RunOutcome;
  result?: RunResult;
  error?: string;
  errorCode?: string | null;
}

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
    nextSlotRequest: assign({ slotSeq: ({ context }) => context.slotSeq + 1 }),
    takeInput: assign(({ event }) => {
      assertEvent(event, 'INPUT.SEND');
      return { current: event.input, lastInput: event.input.message, ...touched() };
    }),
    enqueueInput: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      return { queue: [...context.queue, event.input], ...touched() };
    }),
    /** An interrupting input waiting for a slot goes first; the one it displaces goes back to the queue's head. */
    jumpQueue: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      const queue = context.current ? [context.current, ...context.queue] : context.queue;
      return { current: event.input, lastInput: event.input.message, queue, ...touched() };
    }),
    takeQueuedInput: assign(({ context }) => {
      const [next, ...rest] = context.queue;
      return { current: next ?? null, lastInput: next?.message ?? null, queue: rest, ...touched() };
    }),
    /** The current input had not started: it is still unprocessed, so it keeps its place. */
    requeueCurrent: assign(({ context }) => ({
      queue: context.current ? [context.current, ...context.queue] : context.queue,
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
    disarmChildTimeout: cancel(CHILD_TIMEOUT_ID),
    armStaleTimeout: enqueueActions(({ context, enqueue }) => {
      const limit = context.spec.limits.staleTimeoutMs;
      if (limit !== null) enqueue.raise({ type: 'LIMIT.STALE' }, { delay: limit, id: STALE_TIMEOUT_ID });
    }),
    disarmStaleTimeout: cancel(STALE_TIMEOUT_ID),
    startRun: enqueueActions(({ context, enqueue }) => {
      const runId = context.runsStarted + 1;
      enqueue.assign({ runsStarted: runId, error: null, run: newRunJournal(context.spec.model), ...touched() });
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
        stats.usage.inputTokens += ending.result.usage.inputTokens;
        stats.usage.outputTokens += ending.result.usage.outputTokens;
      }
      const report: RunReport = {
        runId: context.runsStarted,
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
      enqueue.assign({
        runsEnded: context.runsEnded + 1,
        lastRun: report,
        ...(completed ? { lastOutput: report.output } : {}),
        error: report.error,
        current: null,
        run: null,
        usage: { inputTokens: context.usage.inputTokens + stats.usage.inputTokens, outputTokens: context.usage.outputTokens + stats.usage.outputTokens },
        conversation: journal.messages.length > 0 ? [...context.conversation, ...settleTurns(journal.messages, ending.outcome)] : context.conversation,
        ...touched(),
      });
      enqueue.emit({ type: 'run-end', ...report });
      enqueue.emit({ type: 'input-end', input, run: report, handedBack: null });
    }),
    /** Hands back the queue (and, for a run not yet started, the current input) to the caller. */
    handBackInputs: enqueueActions(({ context, enqueue }, params: { reason: HandBackReason; withCurrent: boolean }) => {
      const returned = params.withCurrent && context.current ? [context.current, ...context.queue] : context.queue;
      for (const input of returned) enqueue.emit({ type: 'input-end', input, run: null, handedBack: params.reason });
      enqueue.assign({ returned, queue: [], ...(params.withCurrent ? { current: null } : {}), ...touched() });
    }),
    rememberStatus: assign((_, params: { status: HandleStatus }) => ({ previousStatus: params.status })),
    touch: assign(() => touched()),
  },
  guards: {
    isInterrupting: ({ event }) => event.type === 'INPUT.SEND' && event.interrupt,
    hasQueuedInput: ({ context }) => context.queue.length > 0,
    isCurrentSlot: ({ context, event }) => event.type === 'SLOT.GRANTED' && event.slotSeq === context.slotSeq,
    isDelegated: ({ context }) => context.spec.delegated,
    overTokenBudget: ({ context }) =>
      context.spec.limits.maxRunTokens !== null && context.run !== null && tokensOf(context.run.stats.usage) > context.spec.limits.maxRunTokens,
    isWaiting: ({ event }) => event.type === 'RUN.PROGRESS' && event.waiting === true,
    isNotWaiting: ({ event }) => event.type === 'RUN.PROGRESS' && event.waiting === false,
  },
}).createMachine({
  id: 'handle',
  context: ({ input }) => {
    const { updatedAt, revision } = touched();
    return {
      spec: input,
      createdAt: updatedAt,
      updatedAt,
      revision,
      queue: [],
      current: null,
      lastInput: null,
      lastOutput: null,
      error: null,
      previousStatus: null,
      runsStarted: 0,
      runsEnded: 0,
      lastRun: null,
      usage: { inputTokens: 0, outputTokens: 0 },
      slotSeq: 0,
      returned: [],
      conversation: [],
      run: null,
    };
  },
  initial: 'idle',
  // Close works from every open status; each status says what closing it means.
  states: {
    idle: {
      entry: { type: 'announceStatus', params: { status: 'idle' } },
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': {
          target: 'closed',
          actions: [{ type: 'rememberStatus', params: { status: 'idle' } }, { type: 'handBackInputs', params: { reason: 'closed', withCurrent: false } }],
        },
      },
    },
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
          entry: ['startRun', 'armChildTimeout'],
          exit: 'disarmChildTimeout',
          invoke: {
            id: 'agentRun',
            src: 'agentRun',
            input: ({ context }): RunRequest => ({
              handleId: context.spec.id,
              runId: context.runsStarted,
              message: context.current?.message ?? '',
              conversation: context.conversation,
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
                actions: [{ type: 'endRun', params: ({ event }) => ({ outcome: 'error', error: errorText(event.error), errorCode: errorCodeOf(event.error) }) }, 'takeQueuedInput'],
              },
              { target: '#handle.error', actions: { type: 'endRun', params: ({ event }) => ({ outcome: 'error', error: errorText(event.error), errorCode: errorCodeOf(event.error) }) } },
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
                  error: `The run made no model or tool progress for ${context.spec.limits.staleTimeoutMs} ms (staleTimeoutMs) and was stopped`,
                })),
                'RUN.PROGRESS': [
                  ...ended(overBudget, 'overTokenBudget'),
                  { guard: 'isWaiting', target: 'waiting' },
                  // Progress re-arms stale detection.
                  { target: 'active', reenter: true },
                ],
              },
            },
            // Waiting for its own background children is not being stale.
            waiting: {
              on: {
                'RUN.PROGRESS': [...ended(overBudget, 'overTokenBudget'), { guard: 'isNotWaiting', target: 'active' }],
              },
            },
          },
          on: {
            'LIMIT.CHILD_TIMEOUT': ended(({ context }) => ({
              outcome: 'timeout',
              error: `The run exceeded childTimeoutMs (${context.spec.limits.childTimeoutMs} ms) and was stopped`,
            })),
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
                  { type: 'endRun', params: { outcome: 'interrupted' } },
                  { type: 'handBackInputs', params: { reason: 'interrupted', withCurrent: false } },
                ],
              },
              { target: '#handle.interrupted', actions: { type: 'endRun', params: { outcome: 'interrupted' } } },
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
    completed: {
      entry: { type: 'announceStatus', params: { status: 'completed' } },
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': {
          target: 'closed',
          actions: [{ type: 'rememberStatus', params: { status: 'completed' } }, { type: 'handBackInputs', params: { reason: 'closed', withCurrent: false } }],
        },
      },
    },
    error: {
      entry: { type: 'announceStatus', params: { status: 'error' } },
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': {
          target: 'closed',
          actions: [{ type: 'rememberStatus', params: { status: 'error' } }, { type: 'handBackInputs', params: { reason: 'closed', withCurrent: false } }],
        },
      },
    },
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
    cancelled: {
      entry: { type: 'announceStatus', params: { status: 'cancelled' } },
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': {
          target: 'closed',
          actions: [{ type: 'rememberStatus', params: { status: 'cancelled' } }, { type: 'handBackInputs', params: { reason: 'closed', withCurrent: false } }],
        },
      },
    },
    closed: {
      entry: { type: 'announceStatus', params: { status: 'closed' } },
      // Takes no input: the runtime refuses sends to a closed handle with HandleClosedError.
      on: {
        'HANDLE.RESUME': { target: 'idle', actions: 'touch' },
      },
    },
  },
});

/** The token budget's ending. */
function overBudget({ context }: { context: HandleContext }): RunEnding {
  const spent = context.run ? tokensOf(context.run.stats.usage) : 0;
  return { outcome: 'error', error: `The run spent ${spent} tokens, over maxRunTokens (${context.spec.limits.maxRunTokens}), and was stopped` };
}

/**
 * The two ways out of `working` when a limit ends the run: with inputs
 * queued, the next one asks for a slot anew (FIFO fairness, the status stays
 * `running`); otherwise the handle is in `error`.
 */
function ended(ending: (args: { context: HandleContext }) => RunEnding, guard?: 'overTokenBudget') {
  const endRun = { type: 'endRun' as const, params: ending };
  return [
    {
      guard: guard ? and([guard, 'hasQueuedInput']) : ('hasQueuedInput' as const),
      target: '#handle.running',
      reenter: true,
      actions: [endRun, 'takeQueuedInput' as const],
    },
    { ...(guard ? { guard } : {}), target: '#handle.error', actions: endRun },
  ];
}

export type HandleMachine = typeof handleMachine;
