import { nanoid } from 'nanoid';
import { createActor, fromPromise } from 'xstate';
import type { ActorRefFrom, InspectionEvent, Observer } from 'xstate';
import {
  BadArgumentError,
  HandleClosedError,
  RuntimeShutDownError,
  UnknownHandleError,
} from '../errors.js';
import { handleMachine } from '../machines/handle.js';
import type { HandleEvent, HandleInput, HandleMachine, RunRequest, RunResult } from '../machines/handle.js';
import { DEFAULT_LIMITS, spawnRefusal, subtreeOf, supervisorMachine } from '../machines/supervisor.js';
import type { CascadingCommand, SupervisorLimits, SupervisorMachine } from '../machines/supervisor.js';
import type { HandleSnapshot, HandleStatus, QueuedInput, Role, RunStats, Usage } from '../types.js';
import { EventHub } from './events.js';
import type { RuntimeEvent, RuntimeListener, SubagentRef } from './events.js';
import { refOf, statusOf, toHandleSnapshot } from './snapshot.js';
import type { HandleActorSnapshot } from './snapshot.js';
import { sanitizeInspectionObserver } from './inspection.js';
import type { InspectionSanitizeOptions } from './inspection.js';
import { Waiters } from './waiters.js';
import type { WaitResult } from './waiters.js';
import { optionalFunction, optionsObject, validateLimits, requireMessage, requireTimeout } from './validate.js';

/** The static facts of a handle a run may need. */
export type RunHandleInfo = Omit<HandleInput, 'key'>;

/** Progress a run reports; the runtime adds who it is about. */
export type RunProgressEvent = Extract<
  RuntimeEvent,
  { type: 'text-delta' | 'thinking-delta' | 'tool-call-start' | 'tool-call-end' | 'model-call-end' }
> extends infer E
  ? E extends RuntimeEvent
    ? Omit<E, keyof SubagentRef | 'runId'>
    : never
  : never;

/** What a run gets beside its input. */
export interface RunContext {
  /** Fires when the run is interrupted, cancelled, closed or shut down: pass it to every request. */
  signal: AbortSignal;
  handle: RunHandleInfo;
  runId: number;
  /** Reports progress as a runtime event. */
  emit(event: RunProgressEvent): void;
  /** Adds spend to the handle and to `stats` as it happens, so it is kept even if the run is stopped. */
  reportUsage(usage: Usage): void;
  /** What the run did so far; the runtime reports it in `run-end` whatever the outcome. Update it in place. */
  stats: RunStats;
  /** The runtime itself, so an orchestrator's run can delegate further. */
  runtime: Runtime;
}

/** What a run may return: its output text, or the text with usage and details. */
export type AgentRunResult = string | { output: string; usage?: Usage; details?: unknown };

/** The work a handle does for one input. Must honour `context.signal`. */
export type AgentRun = (input: string, context: RunContext) => Promise<AgentRunResult>;

/** The event passed to `onSubagentStart` / `onSubagentStop`. */
export type SubagentStartEvent = Extract<RuntimeEvent, { type: 'run-start' }>;
export type SubagentStopEvent = Extract<RuntimeEvent, { type: 'run-end' }>;

export interface CoreRuntimeOptions extends Partial<SupervisorLimits> {
  /** The work each run does. */
  run: AgentRun;
  /**
   * Any XState inspection observer (for instance from `@statelyai/inspect`).
   * It is sent sanitised events: no keys or clients, long strings cut, the
   * supervisor's bookkeeping as counts.
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** How inspection events are sanitised (extra secrets to redact, string and array caps). */
  inspection?: InspectionSanitizeOptions;
  /** Called once when each run starts. */
  onSubagentStart?: (event: SubagentStartEvent) => void;
  /** Called exactly once when each run ends, however it ends. */
  onSubagentStop?: (event: SubagentStopEvent) => void;
  /** Where errors thrown by listeners and hooks go. @default console.error */
  onListenerError?: (error: unknown) => void;
}

export interface SpawnOptions {
  /** First input; the handle starts working on it at once. */
  message?: string;
  /** A nickname: becomes the handle's id (must be unique). @default a generated id */
  name?: string;
  /** The parent handle; `null` for the root agent. @default null */
  parentId?: string | null;
  /** @default 'leaf' */
  role?: Role;
  /** @default 'general' */
  agentType?: string;
  /** Model override for this handle. */
  model?: string | null;
  /** What the handle is for, shown in events and snapshots. */
  goal?: string | null;
}

export interface SendOptions {
  /** Abort the current run and run this input next, ahead of the queue. @default false */
  interrupt?: boolean;
}

export interface WaitOptions {
  /** @default 30000 */
  timeoutMs?: number;
}

export interface CancelResult {
  handle: HandleSnapshot;
  /** Inputs that were queued and will not run, handed back. */
  discarded: string[];
  /** Descendants stopped with it, each with the inputs it handed back. */
  descendants: Array<{ id: string; discarded: string[] }>;
}

export interface CloseResult {
  handle: HandleSnapshot;
  previousStatus: HandleStatus;
  /** Inputs accepted but not processed, handed back. */
  unprocessed: string[];
  descendants: Array<{ id: string; previousStatus: HandleStatus; unprocessed: string[] }>;
}

interface HandleRecord {
  ref: ActorRefFrom<HandleMachine>;
  status: HandleStatus;
  runsStarted: number;
  runsEnded: number;
  /**
   * Per run id, what the run did and returned beside its output, until its
   * run-end is emitted. Keyed by run because an interrupting send starts the
   * next run before the end of the previous one is reported.
   */
  runs: Map<number, { stats: RunStats; details: unknown }>;
  /** An internal watcher (delegation), called synchronously: it must not call back into the runtime. */
  watcher: HandleWatcher | null;
}

/** What an internal watcher of a handle is told: run starts, run ends, status changes. */
export type HandleWatcher = (event: SubagentStartEvent | SubagentStopEvent | HandleUpdateEvent) => void;

type HandleUpdateEvent = Extract<RuntimeEvent, { type: 'handle-update' }>;

/** The runtime as the layers above it see it: it can also emit events of theirs. */
export interface CoreRuntime extends Runtime {
  /** Emits an event from a layer built on the runtime (delegation). */
  emit(event: RuntimeEvent): void;
  /**
   * Watches one handle (one watcher per handle; delegation uses it). The
   * watcher is called synchronously, inside the transition: it may resolve
   * promises but must not call into the runtime. Returns the unwatch function.
   */
  watch(id: string, watcher: HandleWatcher): () => void;
}

/** The public runtime API. */
export interface Runtime {
  /** The root XState actor (the supervisor), for inspection. */
  readonly actor: ReturnType<typeof createActor<SupervisorMachine>>;
  readonly limits: Readonly<SupervisorLimits>;
  spawn(options?: SpawnOptions): HandleSnapshot;
  send(id: string, message: string, options?: SendOptions): HandleSnapshot;
  wait(ids: string | readonly string[], options?: WaitOptions): Promise<WaitResult>;
  interrupt(id: string): HandleSnapshot;
  cancel(id: string): CancelResult;
  close(id: string): CloseResult;
  resume(id: string): HandleSnapshot;
  /**
   * Frees a closed handle and its descendants (all must be closed): their
   * actors stop and their ids become unknown. Returns the ids forgotten.
   */
  forget(id: string): string[];
  get(id: string): HandleSnapshot;
  list(filter?: { parentId?: string | null; status?: HandleStatus }): HandleSnapshot[];
  pauseSpawning(paused?: boolean): void;
  setLimits(limits: Partial<SupervisorLimits>): void;
  subscribe(listener: RuntimeListener): () => void;
  events(signal?: AbortSignal): AsyncIterableIterator<RuntimeEvent>;
  shutdown(): Promise<void>;
}

function normaliseResult(result: AgentRunResult): { result: RunResult; details: unknown } {
  if (typeof result === 'string') return { result: { output: result }, details: undefined };
  if (typeof result !== 'object' || result === null) {
    throw new BadArgumentError('the run result', 'a string or an object `{ output }`', result);
  }
  const output = typeof result?.output === 'string' ? result.output : String(result?.output ?? '');
  return { result: result.usage ? { output, usage: result.usage } : { output }, details: result.details };
}

/**
 * Creates a runtime: a supervisor actor that spawns subagent handles and runs
 * `options.run` for each input they get.
 *
 * @example
 * ```ts
 * const runtime = createCoreRuntime({ run: async (input, { signal }) => `echo: ${input}` });
 * const handle = runtime.spawn({ message: 'hello' });
 * const { completed } = await runtime.wait(handle.id);
 * ```
 */
export function createCoreRuntime(options: CoreRuntimeOptions): CoreRuntime {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object with a `run` function', options);
  if (typeof options.run !== 'function') throw new BadArgumentError('run', 'a function (input, context) => Promise<output>', options.run);
  optionalFunction(options.onSubagentStart, 'onSubagentStart');
  optionalFunction(options.onSubagentStop, 'onSubagentStop');
  optionalFunction(options.onListenerError, 'onListenerError');
  const inspect: unknown = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && (typeof inspect !== 'object' || inspect === null)) {
    throw new BadArgumentError('inspect', 'an inspection observer (a function or an object with `next`)', inspect);
  }
  const limits = validateLimits({ ...DEFAULT_LIMITS, ...pickLimits(options) });
  const hub = new EventHub(options.onListenerError ?? ((error) => console.error('subagents: a listener threw', error)));
  const records = new Map<string, HandleRecord>();
  const waiters = new Waiters((id) => snapshotOf(id));
  let inputSeq = 0;
  let running = true;

  const report = (error: unknown) => {
    try {
      (options.onListenerError ?? ((e: unknown) => console.error('subagents: a hook threw', e)))(error);
    } catch {
      // The error reporter itself failed; nothing sensible is left to do.
    }
  };

  // Hooks are listeners like any other: called after the transition that caused them.
  const { onSubagentStart, onSubagentStop } = options;
  if (onSubagentStart || onSubagentStop) {
    hub.subscribe((event) => {
      if (event.type === 'run-start') onSubagentStart?.(event);
      else if (event.type === 'run-end') onSubagentStop?.(event);
    });
  }

  const agentRun = fromPromise<RunResult, RunRequest>(async ({ input, signal }) => {
    // The run actor starts mid-transition (often inside the supervisor's, on a
    // handed-over slot). User code runs a microtask later, once every actor is
    // settled, so that calls it makes into the runtime see a consistent state.
    await Promise.resolve();
    signal.throwIfAborted();
    const record = records.get(input.handleId);
    if (!record) throw new UnknownHandleError(input.handleId);
    const context = record.ref.getSnapshot().context;
    const ref = refOf(record.ref.getSnapshot());
    const stats = newStats(context.model);
    const entry = { stats, details: undefined as unknown };
    record.runs.set(input.runId, entry);
    const runContext: RunContext = {
      stats,
      signal,
      runId: input.runId,
      handle: handleInfo(context),
      emit: (event) => {
        if (!signal.aborted) hub.emit({ ...event, ...ref, runId: input.runId });
      },
      reportUsage: (usage) => {
        if (signal.aborted) return;
        stats.usage.inputTokens += usage.inputTokens;
        stats.usage.outputTokens += usage.outputTokens;
        record.ref.send({ type: 'RUN.USAGE', usage });
      },
      runtime,
    };
    const { result, details } = normaliseResult(await options.run(input.message, runContext));
    entry.details = details;
    if (result.usage) {
      stats.usage.inputTokens += result.usage.inputTokens;
      stats.usage.outputTokens += result.usage.outputTokens;
    }
    return result;
  });

  const actor = createActor(
    supervisorMachine.provide({ actors: { handle: handleMachine.provide({ actors: { agentRun } }) } }),
    {
      input: { limits },
      ...(options.inspect ? { inspect: sanitizeInspectionObserver(options.inspect, options.inspection) } : {}),
    },
  );
  actor.start();

  function requireRecord(id: unknown): HandleRecord {
    if (typeof id !== 'string') throw new BadArgumentError('id', 'a handle id string', id);
    const record = records.get(id);
    if (!record) throw new UnknownHandleError(id, [...records.keys()]);
    return record;
  }

  function snapshotOf(id: string): HandleSnapshot {
    return toHandleSnapshot(requireRecord(id).ref.getSnapshot());
  }

  /** Turns each handle transition into runtime events and wakes waiters. */
  function observe(record: HandleRecord, snapshot: HandleActorSnapshot): void {
    const status = statusOf(snapshot);
    const context = snapshot.context;
    const previousStatus = record.status;
    const ended = context.runsEnded !== record.runsEnded;
    const started = context.runsStarted !== record.runsStarted;
    record.status = status;
    record.runsEnded = context.runsEnded;
    record.runsStarted = context.runsStarted;
    const listening = hub.hasListeners;
    const watcher = record.watcher;
    if (!ended && !started && previousStatus === status && !listening) return;
    const ref = refOf(snapshot);
    // Events are built only for someone: the hub's listeners or the handle's watcher.
    // An interrupting send ends one run and starts the next in one step: end first.
    if (ended) {
      const run = record.runs.get(context.runsEnded) ?? { stats: newStats(context.model), details: undefined };
      record.runs.delete(context.runsEnded);
      if (listening || watcher) {
        const event: SubagentStopEvent = {
          type: 'run-end',
          ...ref,
          runId: context.runsEnded,
          outcome: context.lastOutcome ?? 'completed',
          output: context.lastOutcome === 'completed' ? context.lastOutput : null,
          error: context.lastOutcome === 'error' || context.lastOutcome === 'timeout' ? context.error : null,
          details: context.lastOutcome === 'completed' ? run.details : undefined,
          stats: run.stats,
          durationMs: performance.now() - run.stats.startedAt,
        };
        hub.emit(event);
        watcher?.(event);
      }
    }
    if (started && (listening || watcher)) {
      const event: SubagentStartEvent = { type: 'run-start', ...ref, runId: context.runsStarted, input: context.current?.message ?? '' };
      hub.emit(event);
      watcher?.(event);
    }
    if (listening || (watcher && previousStatus !== status)) {
      const event: HandleUpdateEvent = { type: 'handle-update', ...ref, handle: toHandleSnapshot(snapshot), previousStatus };
      hub.emit(event);
      if (previousStatus !== status) watcher?.(event);
    }
    if (previousStatus !== status) waiters.notify(context.id, status === 'running');
  }

  function ensureRunning(): void {
    if (!running) throw new RuntimeShutDownError();
  }

  function command(id: string, command: CascadingCommand): string[] {
    const targets = subtree(id);
    // Only handles for which the command does something report what they hand back.
    const applies = new Set(targets.filter((target) => requireRecord(target).ref.getSnapshot().can({ type: command })));
    actor.send({ type: 'HANDLE.COMMAND', id, command, cascade: true });
    return targets.filter((target) => applies.has(target));
  }

  /** The handle and its descendants, deepest first. */
  const subtree = (id: string): string[] => subtreeOf(actor.getSnapshot().context, id);


  const returnedOf = (id: string, applied: boolean): string[] =>
    applied ? requireRecord(id).ref.getSnapshot().context.returned.map((input: QueuedInput) => input.message) : [];

  const runtime: CoreRuntime = {
    actor,
    emit: (event) => hub.emit(event),
    watch(id, watcher) {
      const record = requireRecord(id);
      record.watcher = watcher;
      return () => {
        if (record.watcher === watcher) record.watcher = null;
      };
    },
    get limits() {
      return { ...actor.getSnapshot().context.limits };
    },

    spawn(given) {
      ensureRunning();
      const spawnOptions = optionsObject(given, 'options');
      if (spawnOptions.role !== undefined && spawnOptions.role !== 'leaf' && spawnOptions.role !== 'orchestrator') {
        throw new BadArgumentError('role', "'leaf' or 'orchestrator'", spawnOptions.role);
      }
      for (const field of ['agentType', 'model', 'goal'] as const) {
        const value = spawnOptions[field];
        if (value !== undefined && value !== null && typeof value !== 'string') throw new BadArgumentError(field, 'a string', value);
      }
      const parentId = spawnOptions.parentId ?? null;
      const id = spawnOptions.name ?? `sa_${nanoid(10)}`;
      if (typeof id !== 'string' || !/^[\w.-]{1,64}$/.test(id)) {
        throw new BadArgumentError('name', 'a nickname of 1-64 letters, digits, `_`, `-` or `.`', spawnOptions.name);
      }
      if (spawnOptions.message !== undefined) requireMessage(spawnOptions.message);
      const supervisor = actor.getSnapshot();
      const spec = {
        id,
        name: spawnOptions.name ?? id,
        parentId,
        role: spawnOptions.role ?? 'leaf',
        agentType: spawnOptions.agentType ?? 'general',
        model: spawnOptions.model ?? null,
        goal: spawnOptions.goal ?? null,
      };
      hub.emit({
        type: 'spawn-request',
        name: spawnOptions.name ?? null,
        parentId,
        depth: (parentId === null ? 0 : (supervisor.context.tree[parentId]?.depth ?? 0)) + 1,
        goal: spec.goal,
        model: spec.model,
      });
      const refusal = spawnRefusal(supervisor.context, spec, running);
      if (refusal) throw refusal;
      actor.send({ type: 'HANDLE.SPAWN', spec });
      const entry = actor.getSnapshot().context.tree[id];
      const ref = entry ? (actor.getSnapshot().children[entry.key]) : undefined;
      if (!ref) throw new Error(`subagents: the supervisor did not spawn \`${id}\`; this is a bug`);
      const record: HandleRecord = { ref, status: 'idle', runsStarted: 0, runsEnded: 0, runs: new Map(), watcher: null };
      records.set(id, record);
      ref.subscribe({ next: (snapshot) => observe(record, snapshot), error: report });
      const snapshot = toHandleSnapshot(ref.getSnapshot());
      hub.emit({ type: 'handle-spawn', ...refOf(ref.getSnapshot()), handle: snapshot });
      if (spawnOptions.message !== undefined) return runtime.send(id, spawnOptions.message);
      return snapshot;
    },

    send(id, message, given) {
      ensureRunning();
      const sendOptions = optionsObject(given, 'options');
      const record = requireRecord(id);
      requireMessage(message);
      if (sendOptions.interrupt !== undefined && typeof sendOptions.interrupt !== 'boolean') {
        throw new BadArgumentError('interrupt', 'a boolean', sendOptions.interrupt);
      }
      if (statusOf(record.ref.getSnapshot()) === 'closed') throw new HandleClosedError(id);
      inputSeq += 1;
      const event: HandleEvent = { type: 'INPUT.SEND', input: { seq: inputSeq, message }, interrupt: sendOptions.interrupt ?? false };
      record.ref.send(event);
      return toHandleSnapshot(record.ref.getSnapshot());
    },

    wait(ids, given) {
      let waitOptions: WaitOptions;
      try {
        waitOptions = optionsObject(given, 'options');
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const list = typeof ids === 'string' ? [ids] : ids;
      if (!Array.isArray(list) || list.length === 0) {
        return Promise.reject(new BadArgumentError('ids', 'a handle id or a non-empty array of handle ids', ids));
      }
      try {
        for (const id of list) requireRecord(id);
        const timeoutMs = requireTimeout(waitOptions.timeoutMs ?? 30_000);
        return waiters.wait([...new Set<string>(list)], timeoutMs);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    interrupt(id) {
      requireRecord(id);
      command(id, 'RUN.INTERRUPT');
      return snapshotOf(id);
    },

    cancel(id) {
      requireRecord(id);
      const applied = new Set(command(id, 'RUN.CANCEL'));
      const descendants = subtree(id).filter((other) => other !== id);
      return {
        handle: snapshotOf(id),
        discarded: returnedOf(id, applied.has(id)),
        descendants: descendants.map((other) => ({ id: other, discarded: returnedOf(other, applied.has(other)) })),
      };
    },

    close(id) {
      requireRecord(id);
      const before = new Map(subtree(id).map((other) => [other, statusOf(requireRecord(other).ref.getSnapshot())]));
      const applied = new Set(command(id, 'HANDLE.CLOSE'));
      const descendants = [...before.keys()].filter((other) => other !== id);
      return {
        handle: snapshotOf(id),
        previousStatus: before.get(id) ?? 'closed',
        unprocessed: returnedOf(id, applied.has(id)),
        descendants: descendants.map((other) => ({
          id: other,
          previousStatus: before.get(other) ?? 'closed',
          unprocessed: returnedOf(other, applied.has(other)),
        })),
      };
    },

    resume(id) {
      ensureRunning();
      const record = requireRecord(id);
      record.ref.send({ type: 'HANDLE.RESUME' });
      return snapshotOf(id);
    },

    forget(id) {
      requireRecord(id);
      const ids = subtree(id);
      for (const other of ids) {
        const status = statusOf(requireRecord(other).ref.getSnapshot());
        if (status !== 'closed') {
          throw new BadArgumentError('id', `a closed handle whose descendants are closed (\`${other}\` is ${status}; close(\`${id}\`) first)`, id);
        }
      }
      actor.send({ type: 'HANDLE.FORGET', id });
      for (const other of ids) records.delete(other);
      return ids;
    },

    get(id) {
      return snapshotOf(id);
    },

    list(given) {
      const filter = optionsObject(given, 'filter');
      const result: HandleSnapshot[] = [];
      for (const record of records.values()) {
        const snapshot = toHandleSnapshot(record.ref.getSnapshot());
        if (filter.parentId !== undefined && snapshot.parentId !== filter.parentId) continue;
        if (filter.status !== undefined && snapshot.status !== filter.status) continue;
        result.push(snapshot);
      }
      return result;
    },

    pauseSpawning(paused = true) {
      if (typeof paused !== 'boolean') throw new BadArgumentError('paused', 'a boolean', paused);
      actor.send({ type: 'SPAWNING.PAUSE', paused });
    },

    setLimits(partial) {
      const next = validateLimits({ ...actor.getSnapshot().context.limits, ...pickLimits(optionsObject(partial, 'limits')) });
      actor.send({ type: 'LIMITS.SET', limits: next });
    },

    subscribe(listener) {
      if (typeof listener !== 'function') throw new BadArgumentError('listener', 'a function', listener);
      return hub.subscribe(listener);
    },

    events(signal) {
      return hub.iterate(signal);
    },

    async shutdown() {
      if (!running) return;
      running = false;
      // Closing records an outcome for every run still going and aborts it; then nothing is left to stop.
      actor.send({ type: 'SUPERVISOR.SHUTDOWN' });
      waiters.settleAll();
      actor.stop();
      hub.close();
    },
  };
  return runtime;
}

function handleInfo({ id, name, parentId, depth, role, agentType, model, goal }: HandleInput): RunHandleInfo {
  return { id, name, parentId, depth, role, agentType, model, goal };
}

function newStats(model: string | null): RunStats {
  return { apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, toolTrace: [], model, startedAt: performance.now() };
}

function pickLimits(options: Partial<SupervisorLimits>): Partial<SupervisorLimits> {
  const picked: Partial<SupervisorLimits> = {};
  if (options.maxSpawnDepth !== undefined) picked.maxSpawnDepth = options.maxSpawnDepth;
  if (options.maxConcurrentChildren !== undefined) picked.maxConcurrentChildren = options.maxConcurrentChildren;
  if (options.maxConcurrentRuns !== undefined) picked.maxConcurrentRuns = options.maxConcurrentRuns;
  return picked;
}
