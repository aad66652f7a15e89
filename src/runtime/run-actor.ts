import { fromPromise } from 'xstate';
import type { ActorRefFrom, AnyActorRef } from 'xstate';
import { BadArgumentError } from '../errors.js';
import { addUsage } from '../usage.js';
import { overrun, tokensLeft } from '../machines/budget.js';
import { errorCodeOf, errorText } from '../machines/handle.js';
import type { HandleMachine, RunRequest, RunResult } from '../machines/handle.js';
import type { AgentRef, RuntimeEvent, SubagentRef } from './events.js';
import { redactSecrets } from './inspection.js';
import type { ApprovalAsk, ApprovalDecision } from '../toolkit/define-tool.js';
import { elapsedOf, noteActivity, progressOf } from './activity.js';
import type { Approvals } from './approvals.js';
import type { AgentRunResult, RunContextOf, RunHandleInfo, RunOf } from './run-types.js';
import type { TelemetryHooks } from '../telemetry-hooks.js';
import { RunLostError } from './executor.js';

/** What a failed run hands the chart: its error as redacted text, and its code. Never the thrown value itself. */
class RunFailure extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'RunFailure';
  }
}

/** Progress reaches the chart at most this often (it re-arms stale detection). */
const PROGRESS_INTERVAL_MS = 250;

function normaliseResult(result: AgentRunResult): RunResult {
  if (typeof result === 'string') return { output: result };
  if (typeof result !== 'object' || result === null) {
    throw new BadArgumentError('the run result', 'a string or an object `{ output }`', result);
  }
  const output = typeof result.output === 'string' ? result.output : String(result.output ?? '');
  return { output, ...(result.usage ? { usage: result.usage } : {}), ...(result.details !== undefined ? { details: result.details } : {}) };
}

export interface RunActorDeps<R> {
  run: RunOf<R>;
  refOf(handleId: string): ActorRefFrom<HandleMachine> | undefined;
  emit(event: RuntimeEvent): void;
  /** Whether anyone listens to events of this type now: with nobody, a run's events of it are not built. @default always */
  listening?: (type: RuntimeEvent['type']) => boolean;
  runtime(): R;
  /** The tools of a handle, resolved from its setup. */
  toolsOf(handleId: string): RunContextOf<R>['tools'];
  /** Secrets to redact from the run's error text. */
  secrets(): readonly string[];
  /** The run recorded a message or reported spend (its journal changed in place): the store writes it. */
  journalChanged?: (handleId: string) => void;
  /**
   * The working directory of a handle's run: its setup's `cwd`, or a git
   * worktree made for it (the first run makes it). Rejects when it cannot be
   * made; the run then fails with that error, never in another directory.
   */
  workspace(spec: RunHandleInfo, signal: AbortSignal): string | Promise<string>;
  approvals: Approvals;
  /** Milliseconds between `progress` events of a run; `null`: none. */
  progressIntervalMs: number | null;
  /**
   * Makes a run's way of asking for approval reachable by handle id while the
   * run is in flight (calls through a dispatcher); returns the function that
   * takes it back.
   */
  registerApprovals(handleId: string, ask: RunApprovals): () => void;
  /** Where each run is traced: its work runs inside its span. */
  telemetry?: TelemetryHooks | undefined;
}

/** How a run in flight asks for approval: its journal shows the wait, and its stale detection pauses. */
export type RunApprovals = (ask: ApprovalAsk, signal?: AbortSignal) => Promise<ApprovalDecision>;

/**
 * The run actor the handle chart invokes: it calls the user's run a
 * microtask later (user code never runs inside a transition) with a context
 * that writes to the handle's run journal. Whatever the run throws becomes
 * a plain, redacted error.
 *
 * `abort` stops a run in flight at once: the chart calls it first when it
 * leaves `working`, so the run's signal fires before the run-end bookkeeping
 * of that transition rather than after the whole step (where XState stops
 * the invoked actor, which aborts the same signal if nothing did).
 */
export function createRunActor<R>(deps: RunActorDeps<R>) {
  const listening = deps.listening ?? (() => true);
  /** The controller and activity of each run in flight, by its invoked actor (dropped with it). */
  const controllers = new WeakMap<AnyActorRef, { controller: AbortController; activity: RunRequest['journal']['activity'] }>();
  const logic = fromPromise<RunResult, RunRequest>(({ input, signal: stopped, self }) => {
    const controller = new AbortController();
    if (stopped.aborted) controller.abort(stopped.reason);
    else stopped.addEventListener('abort', () => controller.abort(stopped.reason), { once: true });
    controllers.set(self, { controller, activity: input.journal.activity });
    return run(input, controller.signal);
  });
  const run = async (input: RunRequest, signal: AbortSignal): Promise<RunResult> => {
    await Promise.resolve();
    signal.throwIfAborted();
    const ref = deps.refOf(input.handleId);
    if (!ref) throw new Error(`Handle \`${input.handleId}\` is unknown to the runtime`);
    const spec = ref.getSnapshot().context.spec;
    const { journal } = input;
    const who: SubagentRef = { handleId: spec.id, parentId: spec.parentId, depth: spec.depth, goal: spec.goal, model: spec.model };
    const { maxRunTokens, staleTimeoutMs } = spec.limits;
    const budgeted = maxRunTokens !== null || ref.getSnapshot().context.budget !== null;
    const interval = staleTimeoutMs === null ? null : Math.min(PROGRESS_INTERVAL_MS, staleTimeoutMs / 4);
    // Progress reaches the chart at most once per interval; one trailing send
    // carries the last progress of a window, so stale detection is re-armed
    // from the last real activity (never early, late by at most the interval).
    let lastProgress = performance.now();
    let trailing: ReturnType<typeof setTimeout> | null = null;
    const sendProgress = () => {
      trailing = null;
      if (signal.aborted) return;
      lastProgress = performance.now();
      ref.send({ type: 'RUN.PROGRESS' });
    };
    signal.addEventListener('abort', () => trailing !== null && clearTimeout(trailing), { once: true });
    // The chart waits (stale detection paused) while the run says it waits or any of its approval requests is open.
    let runWaiting = false;
    let approvalsOpen = 0;
    let chartWaiting = false;
    const syncWaiting = (): boolean => {
      const waiting = runWaiting || approvalsOpen > 0;
      if (waiting === chartWaiting || signal.aborted) return false;
      chartWaiting = waiting;
      ref.send({ type: 'RUN.PROGRESS', waiting });
      return true;
    };
    const progress = (waiting?: boolean) => {
      if (signal.aborted) return;
      journal.activity.lastActivityAt = performance.now();
      if (waiting !== undefined) {
        runWaiting = waiting;
        if (syncWaiting()) return;
      }
      if (interval === null) return;
      const since = performance.now() - lastProgress;
      if (since >= interval) sendProgress();
      else trailing ??= setTimeout(sendProgress, interval - since);
    };
    const requestApproval: RunApprovals = async (ask, callSignal) => {
      const stop = callSignal ? AbortSignal.any([signal, callSignal]) : signal;
      approvalsOpen += 1;
      syncWaiting();
      try {
        return await deps.approvals.request({ ...who, runId: input.runId } satisfies AgentRef, ask, stop, journal.activity);
      } finally {
        approvalsOpen -= 1;
        syncWaiting();
      }
    };
    const handle: RunHandleInfo = { id: spec.id, name: spec.name, parentId: spec.parentId, depth: spec.depth, role: spec.role, agentType: spec.agentType, model: spec.model, goal: spec.goal, setup: spec.setup };
    let cwd: string;
    try {
      const found = deps.workspace(handle, signal);
      cwd = typeof found === 'string' ? found : await found;
    } catch (error) {
      throw new RunFailure(redactSecrets(errorText(error), deps.secrets()), errorCodeOf(error));
    }
    signal.throwIfAborted();
    const context: RunContextOf<R> = {
      signal,
      runId: input.runId,
      cwd,
      conversation: input.conversation,
      stats: journal.stats,
      handle,
      tools: deps.toolsOf(spec.id),
      emit: (event) => {
        if (signal.aborted) return;
        noteActivity(journal.activity, event, deps.secrets());
        if (listening(event.type)) deps.emit({ ...event, ...who, runId: input.runId });
        progress();
      },
      tokensLeft: () => tokensLeft(ref.getSnapshot().context),
      reportUsage: (usage) => {
        if (signal.aborted) return;
        addUsage(journal.stats.usage, usage);
        deps.journalChanged?.(spec.id);
        // Past the budget the chart is told at once; otherwise spend rides on the next progress.
        if (budgeted && overrun(ref.getSnapshot().context) !== null) ref.send({ type: 'RUN.PROGRESS' });
        else progress();
      },
      record: (message) => {
        if (signal.aborted) return;
        journal.messages.push(message);
        deps.journalChanged?.(spec.id);
      },
      setPartialOutput: (text) => {
        if (!signal.aborted) journal.partialOutput = text;
      },
      progress: (state) => progress(state?.waiting),
      requestApproval: (ask) => requestApproval(ask),
      runtime: deps.runtime(),
    };
    const unregister = deps.registerApprovals(spec.id, requestApproval);
    const stopTicking = tickProgress(deps, signal, () => ({ type: 'progress', ...who, runId: input.runId, ...progressOf(journal), ...elapsedOf(journal), awaitingApproval: journal.activity.awaitingApproval && { ...journal.activity.awaitingApproval } }));
    try {
      const work = () => deps.run(input.message, context);
      const { handle } = context;
      const traced = deps.telemetry?.startRun({ handleId: handle.id, name: handle.name, parentId: handle.parentId, depth: handle.depth, agentType: handle.agentType, model: handle.model, runId: input.runId, input: input.message });
      return normaliseResult(await (traced ? traced.within(work) : work()));
    } catch (error) {
      // Stopped by its chart (the only way the signal fires): the chart has moved on and reads no failure.
      if (signal.aborted) throw error;
      // Work lost outside this process ends the run `interrupted`, by a transition of its chart.
      if (error instanceof RunLostError) ref.send({ type: 'RUN.INTERRUPT', reason: redactSecrets(error.reason, deps.secrets()) });
      throw new RunFailure(redactSecrets(errorText(error), deps.secrets()), errorCodeOf(error));
    } finally {
      if (trailing !== null) clearTimeout(trailing);
      stopTicking();
      unregister();
    }
  };
  return {
    logic,
    /** Aborts a run in flight given its invoked actor; nothing for one that settled (as XState's own stop). */
    abort(runActor: ActorRefFrom<typeof logic> | undefined): void {
      const run = runActor?.getSnapshot().status === 'active' ? controllers.get(runActor) : undefined;
      if (!run) return;
      // The chart records the run as it was when stopped: an approval wait the abort ends is still what it was doing.
      const { awaitingApproval } = run.activity;
      run.controller.abort();
      run.activity.awaitingApproval = awaitingApproval;
    },
  };
}


/** Emits a `progress` event every `progressIntervalMs` until the run ends or is stopped; returns the function that stops it. */
function tickProgress<R>(deps: RunActorDeps<R>, signal: AbortSignal, event: () => RuntimeEvent): () => void {
  if (deps.progressIntervalMs === null) return () => {};
  const timer = setInterval(() => {
    if (!signal.aborted && (deps.listening?.('progress') ?? true)) deps.emit(event());
  }, deps.progressIntervalMs);
  // Reporting never keeps the process alive by itself.
  timer.unref();
  const stop = () => clearInterval(timer);
  signal.addEventListener('abort', stop, { once: true });
  return () => {
    stop();
    signal.removeEventListener('abort', stop);
  };
}
