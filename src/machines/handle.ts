import { assertEvent, assign, fromPromise, sendParent, setup } from 'xstate';
import type { HandleStatus, QueuedInput, Role, RunOutcome, Usage } from '../types.js';

/** What the supervisor gives a handle when it spawns it. */
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
}

/** What the run actor receives for one run. */
export interface RunRequest {
  handleId: string;
  runId: number;
  message: string;
}

/** What a run resolves with. */
export interface RunResult {
  output: string;
  usage?: Usage;
}

export interface HandleContext extends HandleInput {
  createdAt: string;
  updatedAt: string;
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
  lastOutcome: RunOutcome | null;
  usage: Usage;
  /** Identifies the handle's current slot request; stale grants are ignored. */
  slotSeq: number;
  /** Inputs handed back by the last cancel or close. */
  returned: QueuedInput[];
}

export type HandleEvent =
  | { type: 'INPUT.SEND'; input: QueuedInput; interrupt: boolean }
  | { type: 'RUN.INTERRUPT' }
  | { type: 'RUN.CANCEL' }
  | { type: 'HANDLE.CLOSE' }
  | { type: 'HANDLE.RESUME' }
  | { type: 'SLOT.GRANTED'; slotSeq: number }
  /** Usage reported while a run works, so spend is visible (and kept) even if the run is later stopped. */
  | { type: 'RUN.USAGE'; usage: Usage };

/** Events a handle sends its parent (the supervisor). */
export type HandleToSupervisorEvent =
  | { type: 'SLOT.REQUEST'; key: string; parentId: string | null; slotSeq: number }
  | { type: 'SLOT.RELEASE'; key: string; parentId: string | null; slotSeq: number };

const now = () => new Date().toISOString();

/** A run error as text: the message of an Error, else its string form. */
function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
}

/** Timeouts are errors whose `code` is `timeout` (RunTimeoutError). */
function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'timeout';
}

/**
 * One subagent handle. Statuses are the top-level states (`running` has two
 * substates: waiting for a concurrency slot, and working). The run is an
 * invoked actor, so leaving `working` aborts it by construction, and its
 * done/error events can only be taken while `working`: exactly one outcome per
 * started run, whatever races with it.
 */
export const handleMachine = setup({
  types: {
    context: {} as HandleContext,
    events: {} as HandleEvent,
    input: {} as HandleInput,
  },
  actors: {
    // The runtime provides the real run; this default never settles.
    agentRun: fromPromise<RunResult, RunRequest>(() => new Promise<RunResult>(() => {})),
  },
  actions: {
    requestSlot: sendParent(({ context }): HandleToSupervisorEvent => ({
      type: 'SLOT.REQUEST',
      key: context.key,
      parentId: context.parentId,
      slotSeq: context.slotSeq,
    })),
    releaseSlot: sendParent(({ context }): HandleToSupervisorEvent => ({
      type: 'SLOT.RELEASE',
      key: context.key,
      parentId: context.parentId,
      slotSeq: context.slotSeq,
    })),
    nextSlotRequest: assign({ slotSeq: ({ context }) => context.slotSeq + 1 }),
    takeInput: assign(({ event }) => {
      assertEvent(event, 'INPUT.SEND');
      return { current: event.input, lastInput: event.input.message, updatedAt: now() };
    }),
    enqueueInput: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      return { queue: [...context.queue, event.input], updatedAt: now() };
    }),
    /** An interrupting input waiting for a slot goes first; the one it displaces goes back to the queue's head. */
    jumpQueue: assign(({ context, event }) => {
      assertEvent(event, 'INPUT.SEND');
      const queue = context.current ? [context.current, ...context.queue] : context.queue;
      return { current: event.input, lastInput: event.input.message, queue, updatedAt: now() };
    }),
    takeQueuedInput: assign(({ context }) => {
      const [next, ...rest] = context.queue;
      return { current: next ?? null, lastInput: next?.message ?? null, queue: rest, updatedAt: now() };
    }),
    /** The current input had not started: it is still unprocessed, so it keeps its place. */
    requeueCurrent: assign(({ context }) => ({
      queue: context.current ? [context.current, ...context.queue] : context.queue,
      current: null,
      updatedAt: now(),
    })),
    startRun: assign(({ context }) => ({ runsStarted: context.runsStarted + 1, error: null, updatedAt: now() })),
    recordCompleted: assign(({ context }, result: RunResult) => {
      const usage = result.usage;
      return {
        runsEnded: context.runsEnded + 1,
        lastOutcome: 'completed' as const,
        lastOutput: result.output,
        error: null,
        current: null,
        usage: usage
          ? {
              inputTokens: context.usage.inputTokens + usage.inputTokens,
              outputTokens: context.usage.outputTokens + usage.outputTokens,
            }
          : context.usage,
        updatedAt: now(),
      };
    }),
    recordFailed: assign(({ context }, params: { error: unknown }) => {
      return {
        runsEnded: context.runsEnded + 1,
        lastOutcome: isTimeout(params.error) ? ('timeout' as const) : ('error' as const),
        error: errorText(params.error),
        current: null,
        updatedAt: now(),
      };
    }),
    recordInterrupted: assign(({ context }) => ({
      runsEnded: context.runsEnded + 1,
      lastOutcome: 'interrupted' as const,
      current: null,
      updatedAt: now(),
    })),
    recordCancelled: assign(({ context }) => ({
      runsEnded: context.runsEnded + 1,
      lastOutcome: 'cancelled' as const,
      current: null,
      updatedAt: now(),
    })),
    returnQueue: assign(({ context }) => ({ returned: context.queue, queue: [], updatedAt: now() })),
    returnCurrentAndQueue: assign(({ context }) => ({
      returned: context.current ? [context.current, ...context.queue] : context.queue,
      queue: [],
      current: null,
      updatedAt: now(),
    })),
    addUsage: assign(({ context, event }) => {
      assertEvent(event, 'RUN.USAGE');
      return {
        usage: {
          inputTokens: context.usage.inputTokens + event.usage.inputTokens,
          outputTokens: context.usage.outputTokens + event.usage.outputTokens,
        },
      };
    }),
    rememberStatus: assign((_, params: { status: HandleStatus }) => ({ previousStatus: params.status })),
    touch: assign({ updatedAt: () => now() }),
  },
  guards: {
    isInterrupting: ({ event }) => event.type === 'INPUT.SEND' && event.interrupt,
    hasQueuedInput: ({ context }) => context.queue.length > 0,
    isCurrentSlot: ({ context, event }) => event.type === 'SLOT.GRANTED' && event.slotSeq === context.slotSeq,
  },
}).createMachine({
  id: 'handle',
  context: ({ input }) => {
    const createdAt = now();
    return {
      ...input,
      createdAt,
      updatedAt: createdAt,
      queue: [],
      current: null,
      lastInput: null,
      lastOutput: null,
      error: null,
      previousStatus: null,
      runsStarted: 0,
      runsEnded: 0,
      lastOutcome: null,
      usage: { inputTokens: 0, outputTokens: 0 },
      slotSeq: 0,
      returned: [],
    };
  },
  initial: 'idle',
  // Close works from every open status; each status says what closing it means.
  states: {
    idle: {
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': { target: 'closed', actions: [{ type: 'rememberStatus', params: { status: 'idle' } }, 'returnQueue'] },
      },
    },
    running: {
      entry: 'nextSlotRequest',
      exit: 'releaseSlot',
      initial: 'awaitingSlot',
      states: {
        awaitingSlot: {
          entry: 'requestSlot',
          on: {
            'SLOT.GRANTED': { guard: 'isCurrentSlot', target: 'working' },
            'INPUT.SEND': [{ guard: 'isInterrupting', actions: 'jumpQueue' }, { actions: 'enqueueInput' }],
            'RUN.INTERRUPT': { target: '#handle.interrupted', actions: 'requeueCurrent' },
            'RUN.CANCEL': { target: '#handle.cancelled', actions: 'returnCurrentAndQueue' },
            'HANDLE.CLOSE': {
              target: '#handle.closed',
              actions: [{ type: 'rememberStatus', params: { status: 'running' } }, 'returnCurrentAndQueue'],
            },
          },
        },
        working: {
          entry: 'startRun',
          invoke: {
            id: 'agentRun',
            src: 'agentRun',
            input: ({ context }): RunRequest => ({
              handleId: context.id,
              runId: context.runsStarted,
              message: context.current?.message ?? '',
            }),
            onDone: [
              // A finished run frees its slot; the next queued input asks for one anew (FIFO fairness).
              {
                guard: 'hasQueuedInput',
                target: '#handle.running',
                reenter: true,
                actions: [{ type: 'recordCompleted', params: ({ event }) => event.output }, 'takeQueuedInput'],
              },
              { target: '#handle.completed', actions: { type: 'recordCompleted', params: ({ event }) => event.output } },
            ],
            onError: [
              {
                guard: 'hasQueuedInput',
                target: '#handle.running',
                reenter: true,
                actions: [{ type: 'recordFailed', params: ({ event }) => ({ error: event.error }) }, 'takeQueuedInput'],
              },
              { target: '#handle.error', actions: { type: 'recordFailed', params: ({ event }) => ({ error: event.error }) } },
            ],
          },
          on: {
            // Aborts the run in place and starts the new input at once, keeping the slot.
            'INPUT.SEND': [
              { guard: 'isInterrupting', target: 'working', reenter: true, actions: ['recordInterrupted', 'takeInput'] },
              { actions: 'enqueueInput' },
            ],
            'RUN.USAGE': { actions: 'addUsage' },
            'RUN.INTERRUPT': { target: '#handle.interrupted', actions: 'recordInterrupted' },
            'RUN.CANCEL': { target: '#handle.cancelled', actions: ['recordCancelled', 'returnQueue'] },
            'HANDLE.CLOSE': {
              target: '#handle.closed',
              actions: ['recordCancelled', { type: 'rememberStatus', params: { status: 'running' } }, 'returnQueue'],
            },
          },
        },
      },
    },
    completed: {
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': { target: 'closed', actions: [{ type: 'rememberStatus', params: { status: 'completed' } }, 'returnQueue'] },
      },
    },
    error: {
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': { target: 'closed', actions: [{ type: 'rememberStatus', params: { status: 'error' } }, 'returnQueue'] },
      },
    },
    interrupted: {
      on: {
        // The new input runs first; inputs kept from before follow it.
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.RESUME': [{ guard: 'hasQueuedInput', target: 'running', actions: 'takeQueuedInput' }, { target: 'idle', actions: 'touch' }],
        'RUN.CANCEL': { target: 'cancelled', actions: 'returnQueue' },
        'HANDLE.CLOSE': {
          target: 'closed',
          actions: [{ type: 'rememberStatus', params: { status: 'interrupted' } }, 'returnQueue'],
        },
      },
    },
    cancelled: {
      on: {
        'INPUT.SEND': { target: 'running', actions: 'takeInput' },
        'HANDLE.CLOSE': { target: 'closed', actions: [{ type: 'rememberStatus', params: { status: 'cancelled' } }, 'returnQueue'] },
      },
    },
    closed: {
      // Takes no input: the runtime refuses sends to a closed handle with HandleClosedError.
      on: {
        'HANDLE.RESUME': { target: 'idle', actions: 'touch' },
      },
    },
  },
});

export type HandleMachine = typeof handleMachine;

