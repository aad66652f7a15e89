/**
 * The view of a runtime in this process: handles from its snapshots, their
 * charts' state values, runs and event logs gathered from its events, pending
 * approvals, and the controls the page may use.
 */
import type { AnyActorRef, StateValue } from 'xstate';
import type { Runtime } from '../agent/runtime-api.js';
import { entryOf, handleSystemId } from '../machines/supervisor.js';
import { handleMachine } from '../machines/handle.js';
import type { HandleContext } from '../machines/handle.js';
import type { ApprovalRequest, RuntimeEvent } from '../runtime/events.js';
import type { HandleSnapshot } from '../types.js';
import { activeStateIds } from './statechart.js';
import type { ViewControl, ViewDetail, ViewHandle, ViewLogEntry, ViewRun, ViewSource, ViewState } from './view-types.js';

/** Log lines and runs kept per handle: the newest. */
const LOG_KEPT = 200;
const RUNS_KEPT = 50;

/** Text of an input or error in the log: its first line, cut. */
const clip = (text: string, length = 120) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
};

/** One line of the log for an event, or `null` for events it leaves out (text chunks). */
function logText(event: RuntimeEvent): string | null {
  switch (event.type) {
    case 'handle-spawn':
      return `spawned by ${event.parentId ?? 'the root agent'} (${event.handle.agentType}, ${event.handle.role})`;
    case 'handle-update':
      return `status ${event.handle.status}${event.handle.waitingForSlot ? ' (waiting for a slot)' : ''}`;
    case 'run-start':
      return `run ${event.runId} started: ${clip(event.input)}`;
    case 'run-end':
      return `run ${event.runId} ${event.outcome} in ${event.durationMs} ms${event.error ? `: ${clip(event.error)}` : ''}`;
    case 'model-call-end':
      return `model call ${event.apiCalls}: ${event.usage.inputTokens + event.usage.outputTokens} tokens`;
    case 'tool-call-start':
      return `tool ${event.tool} started (${event.argumentBytes} bytes of arguments)`;
    case 'tool-call-end':
      return `tool ${event.tool} ${event.ok ? 'ended' : 'failed'} in ${event.durationMs} ms (${event.resultBytes} bytes)`;
    case 'input-end':
      return `input ${event.handedBack ? `handed back (${event.handedBack})` : (event.outcome ?? 'ended')}: ${clip(event.input, 60)}`;
    case 'approval-request':
      return `asks approval for ${event.tool} (${event.requestId})`;
    case 'approval-end':
      return `approval ${event.requestId} ${event.approved ? 'granted' : 'denied'} by ${event.decidedBy}`;
    default:
      return null;
  }
}

/** The events a handle's log shows. */
const LOGGED = new Set<RuntimeEvent['type']>(['handle-spawn', 'handle-update', 'run-start', 'run-end', 'model-call-end', 'tool-call-start', 'tool-call-end', 'input-end', 'approval-request', 'approval-end']);

/** The handle actor of an id, through the supervisor's book and the actor system. */
function handleActor(runtime: Runtime, id: string): AnyActorRef | undefined {
  const entry = entryOf(runtime.actor.getSnapshot().context, id);
  if (entry === undefined) return undefined;
  return runtime.actor.system.get(handleSystemId(entry.key)) as AnyActorRef | undefined;
}

/** What a handle actor's snapshot holds that the public snapshot does not. */
function chartOf(runtime: Runtime, id: string): { value: StateValue; context: HandleContext } | null {
  const snapshot = handleActor(runtime, id)?.getSnapshot() as { value: StateValue; context: HandleContext } | undefined;
  return snapshot ?? null;
}

/**
 * Follows a runtime: subscribes to its events at once (so the runs, logs
 * and approvals of handles are known before a page connects) and stops on
 * `close()`.
 */
export function runtimeSource(runtime: Runtime): ViewSource {
  const logs = new Map<string, Array<{ at: number; event: RuntimeEvent }>>();
  const runs = new Map<string, ViewRun[]>();
  const approvals = new Map<string, ApprovalRequest>();
  /** Inputs of the runs in flight, by handle and run: a run's end does not carry its input. */
  const inputs = new Map<string, string>();
  const listeners = new Set<() => void>();
  const push = <T>(map: Map<string, T[]>, id: string, item: T, kept: number) => {
    const list = map.get(id) ?? [];
    list.push(item);
    if (list.length > kept) list.splice(0, list.length - kept);
    map.set(id, list);
  };
  const unsubscribe = runtime.subscribe((event) => {
    if (event.type === 'approval-request') approvals.set(event.requestId, { ...event });
    if (event.type === 'approval-end') approvals.delete(event.requestId);
    if (event.type === 'run-start') inputs.set(`${event.handleId}:${event.runId}`, clip(event.input));
    if (event.type === 'run-end') {
      const input = inputs.get(`${event.handleId}:${event.runId}`) ?? '';
      inputs.delete(`${event.handleId}:${event.runId}`);
      const tokens = event.stats.usage.inputTokens + event.stats.usage.outputTokens;
      push(runs, event.handleId, { runId: event.runId, outcome: event.outcome, input, durationMs: event.durationMs, tokens, error: event.error }, RUNS_KEPT);
    }
    // Kept as they came; their text is made only when a page asks for the log.
    if (LOGGED.has(event.type) && 'handleId' in event && event.handleId !== null) push(logs, event.handleId, { at: Date.now(), event }, LOG_KEPT);
    // Text chunks change nothing the tree shows: no redraw for them.
    if (event.type === 'text-delta' || event.type === 'thinking-delta') return;
    for (const listener of listeners) listener();
  });

  const viewHandle = (snapshot: HandleSnapshot): ViewHandle => {
    const last = runs.get(snapshot.id)?.at(-1) ?? null;
    const state = chartOf(runtime, snapshot.id)?.value ?? null;
    return {
      snapshot,
      state,
      activeStates: state === null ? [] : activeStateIds(handleMachine.id, state),
      cost: runtime.usage(snapshot.id).cost,
      lastRunStartedAt: snapshot.progress?.startedAt ?? null,
      lastRunMs: snapshot.status === 'running' ? null : (last?.durationMs ?? null),
    };
  };

  return {
    mode: 'live',
    state(): ViewState {
      const snapshots = runtime.list();
      const known = new Set(snapshots.map((snapshot) => snapshot.id));
      // Forgotten handles leave the logs too.
      for (const map of [logs, runs]) for (const id of map.keys()) if (!known.has(id)) map.delete(id);
      for (const key of inputs.keys()) if (!known.has(key.slice(0, key.lastIndexOf(':')))) inputs.delete(key);
      const totals = runtime.usage();
      return {
        mode: 'live',
        source: null,
        totals: { usage: totals.total, cost: totals.cost, budget: totals.budget, handles: snapshots.length, running: snapshots.filter((snapshot) => snapshot.status === 'running').length },
        handles: snapshots.map(viewHandle),
        approvals: [...approvals.values()],
      };
    },
    detail(id): ViewDetail | null {
      const snapshot = runtime.list().find((handle) => handle.id === id);
      if (snapshot === undefined) return null;
      const queue = chartOf(runtime, id)?.context.inputs.queue ?? [];
      return {
        handle: viewHandle(snapshot),
        queue: queue.map((input) => ({ seq: input.seq, message: clip(input.message, 400) })),
        runs: [...(runs.get(id) ?? [])],
        log: (logs.get(id) ?? []).flatMap(({ at, event }): ViewLogEntry[] => {
          const text = logText(event);
          return text === null ? [] : [{ at, type: event.type, text }];
        }),
      };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    control(control: ViewControl): unknown {
      switch (control.action) {
        case 'interrupt':
          return runtime.interrupt(control.id);
        case 'cancel':
          return runtime.cancel(control.id);
        case 'close':
          return runtime.close(control.id);
        case 'resume':
          return runtime.resume(control.id);
        case 'send':
          return runtime.send(control.id, control.message, { interrupt: control.interrupt });
        case 'approve':
          runtime.approve(control.requestId, control.reason === undefined ? { approve: control.approve } : { approve: control.approve, reason: control.reason });
          return { requestId: control.requestId, approved: control.approve };
      }
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
