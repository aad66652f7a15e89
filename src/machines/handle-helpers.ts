/** Pure helpers of the handle chart: error text that never throws, and a fresh run journal. */
import { noUsage } from '../usage.js';
import { overrun } from './budget.js';
import { and } from 'xstate';
import type { HandleContext, HandleResults, RunEnding, RunJournal } from './handle-types.js';

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

/** The one empty list every handle starts with and goes back to: an idle handle holds no arrays of its own. */
export const NONE: readonly never[] = Object.freeze([]);

/** What a handle that has not run yet has done, shared by them all: every change makes a new `results`. */
export const NO_RESULTS: HandleResults = Object.freeze({
  lastInput: null,
  lastOutput: null,
  error: null,
  lastRun: null,
  usage: Object.freeze(noUsage()),
  runsStarted: 0,
  runsEnded: 0,
  conversation: NONE,
});

export function newRunJournal(model: string | null): RunJournal {
  const startedAt = performance.now();
  return {
    stats: { apiCalls: 0, usage: noUsage(), toolTrace: [], model, startedAt },
    messages: [],
    partialOutput: null,
    activity: { lastActivityAt: startedAt, currentTool: null, lastModelCallEndedAt: null, textTail: '', awaitingApproval: null },
  };
}

/** Characters of the last text a timeout's diagnostic quotes. */
const DIAGNOSTIC_TEXT = 200;

/**
 * What a run was doing when a limit stopped it, as a sentence for its error:
 * the tool it was running and for how long (or the approval it waited for),
 * when its last model call ended, and its last text.
 */
export function stopDiagnostic(journal: RunJournal | null, now = performance.now()): string {
  if (!journal) return '';
  const { activity, stats } = journal;
  const since = (at: number) => `${Math.max(0, Math.round(now - at))} ms`;
  const parts: string[] = [];
  const { awaitingApproval: approval, currentTool: tool } = activity;
  if (approval) {
    // The call that waits is the tool call in progress: one clause says both.
    const waited = tool?.name === approval.tool ? ` for ${since(tool.startedAt)}` : '';
    parts.push(`waiting for approval of \`${approval.tool}\` (request ${approval.requestId})${waited}`);
  } else {
    parts.push(tool ? `running tool \`${tool.name}\` for ${since(tool.startedAt)}` : 'running no tool');
  }
  parts.push(
    activity.lastModelCallEndedAt === null
      ? 'no model call had ended'
      : `its last model call (${stats.apiCalls} in all) ended ${since(activity.lastModelCallEndedAt)} before`,
  );
  const text = activity.textTail.slice(-DIAGNOSTIC_TEXT);
  parts.push(text ? `its last text: ${JSON.stringify(text)}` : 'it had produced no text');
  return `. When stopped it was ${parts.join('; ')}`;
}


/** The budget's ending (`maxRunTokens`, the handle's tokens or cost): spend is kept, the handle is in `error`. */
export function overBudget({ context }: { context: HandleContext }): RunEnding {
  return { outcome: 'budget_exceeded', error: overrun(context) ?? 'The run was over its budget and was stopped', errorCode: 'budget_exceeded' };
}

/**
 * The two ways out of `working` when a limit ends the run: with inputs
 * queued, the next one asks for a slot anew (FIFO fairness, the status stays
 * `running`); otherwise the handle is in `error`.
 */
export function ended(ending: (args: { context: HandleContext }) => RunEnding, guard?: 'overBudget' | 'deadlineReached') {
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

/**
 * A status nothing runs in (idle, or where a run's end left the handle): a new
 * input starts running; a close hands the queue back and remembers the status.
 */
export const settled = <S extends 'idle' | 'completed' | 'error' | 'cancelled'>(status: S) => ({
  entry: { type: 'announceStatus' as const, params: { status } },
  on: {
    'INPUT.SEND': { target: 'running', actions: 'takeInput' as const },
    'HANDLE.CLOSE': {
      target: 'closed',
      actions: [{ type: 'rememberStatus' as const, params: { status } }, { type: 'handBackInputs' as const, params: { reason: 'closed' as const, withCurrent: false } }],
    },
  },
});

/** A run that threw: `budget_exceeded` when it stopped at its budget (a cut-off answer under a token cap), else `error`. */
export const runFailure = (error: unknown): RunEnding => {
  const errorCode = errorCodeOf(error);
  return { outcome: errorCode === 'budget_exceeded' ? 'budget_exceeded' : 'error', error: errorText(error), errorCode };
};

/**
 * Orders every change of every handle in this process: recency ("the handle
 * updated last") is read from it, never from the clock, whose milliseconds tie.
 */
let lastRevision = 0;

/** The fields every change of a handle sets: when (for people) and in which order (for code). */
export const touched = () => ({ updatedAt: Date.now(), revision: (lastRevision += 1) });

/**
 * Handles restored from a store keep their revisions: later changes in this
 * process must still order after them.
 */
export function advanceRevision(atLeast: number): void {
  if (atLeast > lastRevision) lastRevision = atLeast;
}
