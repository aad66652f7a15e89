import { nanoid } from 'nanoid';
import { createActor } from 'xstate';
import type { ActorRefFrom, InspectionEvent, Observer } from 'xstate';
import { BadArgumentError, HandleClosedError, HandleStateError, RuntimeShutDownError, UnknownHandleError } from '../errors.js';
import { handleMachine } from '../machines/handle.js';
import type { HandleEmitted, HandleEvent, HandleMachine } from '../machines/handle.js';
import { DEFAULT_LIMITS, handleSystemId, spawnRefusal, subtreeOf, supervisorMachine } from '../machines/supervisor.js';
import type { CascadingCommand, SupervisorLimits, SupervisorMachine } from '../machines/supervisor.js';
import type { HandleSnapshot, HandleStatus, QueuedInput, Role, RunLimits } from '../types.js';
import { EventHub } from './events.js';
import type { EventsOptions, RuntimeEvent, RuntimeListener } from './events.js';
import { refOf, statusOf, toHandleSnapshot } from './snapshot.js';
import { sanitizeInspectionObserver } from './inspection.js';
import type { InspectionSanitizeOptions } from './inspection.js';
import { createRunActor } from './run-actor.js';
import type { AgentRun } from './run-actor.js';
import { Waiters } from './waiters.js';
import type { WaitResult } from './waiters.js';
import { optionalFunction, optionsObject, validateLimits, requireMessage, requireTimeout } from './validate.js';

export type { AgentRun, AgentRunResult, RunContext, RunHandleInfo, RunProgressEvent } from './run-actor.js';

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
  /** A run longer than this ends with outcome `timeout` (the handle goes to `error`). @default none */
  childTimeoutMs?: number;
  /** A run that reports no progress (events, usage) for this long ends with outcome `timeout`. @default none */
  staleTimeoutMs?: number;
  /** Tokens (input + output) one run may spend; past it the run ends in `error`. @default none */
  maxRunTokens?: number;
  /** Secrets to redact from errors, events and inspection output (the clients' keys are added by createRuntime). */
  secrets?: readonly string[];
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

/** What spawning a handle sets beside the public options (delegation uses it). */
export interface SpawnInternals {
  /** A delegation's child: an input interrupted before it started ends there. */
  delegated?: boolean;
}

/** What `shutdown()` resolves with: every input accepted but not processed, per handle. */
export interface ShutdownResult {
  unprocessed: Array<{ handleId: string; inputs: string[] }>;
}

/** The runtime as the layers above it see it. */
export interface CoreRuntime extends Runtime {
  /** Emits an event from a layer built on the runtime (delegation). */
  emit(event: RuntimeEvent): void;
  spawnWith(options: SpawnOptions, internals: SpawnInternals): HandleSnapshot;
  /** Sends an input and returns it (with its sequence number, to match its `input-end`). */
  enqueue(id: string, message: string, options?: SendOptions): QueuedInput;
  /**
   * Listens to what a handle's chart emits (any number of listeners). Called
   * synchronously after the transition: it may resolve promises but must not
   * call into the runtime. Returns the unsubscribe function.
   */
  listen(id: string, listener: (event: HandleEmitted) => void): () => void;
  readonly secrets: readonly string[];
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
  /**
   * Events as an async iterable. At most `bufferSize` unread events are kept
   * (default 10,000): past that the oldest are dropped and one
   * `events-dropped` event says how many, before the next event delivered.
   */
  events(options?: EventsOptions | AbortSignal): AsyncIterableIterator<RuntimeEvent>;
  /**
   * Closes every handle (each run in flight ends `cancelled`), stops the
   * actors and resolves with every input that was accepted but not processed.
   */
  shutdown(): Promise<ShutdownResult>;
}

/** Handles stopped per supervisor step at shutdown. */
const STOP_BATCH = 256;

/** Checks an optional limit in milliseconds or tokens; `null` when not given. */
function optionalLimit(value: unknown, name: string, tokens = false): number | null {
  if (value === undefined || value === null) return null;
  if (tokens) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BadArgumentError(name, 'an integer >= 1', value);
    return value;
  }
  return requireTimeout(value, name);
}

/** Validates the options every runtime takes; throws a typed error naming the first bad one. */
export function validateCoreOptions(options: Omit<CoreRuntimeOptions, 'run'>): RunLimits {
  optionalFunction(options.onSubagentStart, 'onSubagentStart');
  optionalFunction(options.onSubagentStop, 'onSubagentStop');
  optionalFunction(options.onListenerError, 'onListenerError');
  const inspect: unknown = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && (typeof inspect !== 'object' || inspect === null)) {
    throw new BadArgumentError('inspect', 'an inspection observer (a function or an object with `next`)', inspect);
  }
  if (options.inspection !== undefined && (typeof options.inspection !== 'object' || options.inspection === null)) {
    throw new BadArgumentError('inspection', 'an object of inspection options', options.inspection);
  }
  return {
    childTimeoutMs: optionalLimit(options.childTimeoutMs, 'childTimeoutMs'),
    staleTimeoutMs: optionalLimit(options.staleTimeoutMs, 'staleTimeoutMs'),
    maxRunTokens: optionalLimit(options.maxRunTokens, 'maxRunTokens', true),
  };
}

/**
 * Creates a runtime: a supervisor actor that spawns subagent handles and runs
 * `options.run` for each input they get. The handle charts own the
 * lifecycle; the runtime turns what they emit into events and answers.
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
  const runLimits = validateCoreOptions(options);
  const limits = validateLimits({ ...DEFAULT_LIMITS, ...pickLimits(options) });
  const secrets = (options.secrets ?? []).filter((secret) => typeof secret === 'string' && secret.length >= 4);
  const report = (error: unknown) => {
    try {
      (options.onListenerError ?? ((e: unknown) => console.error('subagents: a listener threw', e)))(error);
    } catch {
      // The error reporter itself failed; nothing sensible is left to do.
    }
  };
  const hub = new EventHub(report);
  const refs = new Map<string, ActorRefFrom<HandleMachine>>();
  const waiters = new Waiters((id) => snapshotOf(id));
  let inputSeq = 0;
  let running = true;
  /** While shutting down: the inputs each handle hands back. */
  let handedBack: Map<string, string[]> | null = null;

  // Hooks are listeners like any other: called after the transition that caused them.
  const { onSubagentStart, onSubagentStop } = options;
  if (onSubagentStart || onSubagentStop) {
    hub.subscribe((event) => {
      if (event.type === 'run-start') onSubagentStart?.(event);
      else if (event.type === 'run-end') onSubagentStop?.(event);
    });
  }

  const agentRun = createRunActor({
    run: options.run,
    refOf: (id) => refs.get(id),
    emit: (event) => hub.emit(event),
    runtime: () => runtime,
    secrets: () => secrets,
  });

  const actor = createActor(
    supervisorMachine.provide({ actors: { handle: handleMachine.provide({ actors: { agentRun } }) } }),
    {
      input: { limits },
      ...(options.inspect ? { inspect: sanitizeInspectionObserver(options.inspect, { ...options.inspection, secrets: [...(options.inspection?.secrets ?? []), ...secrets] }) } : {}),
    },
  );
  actor.start();

  function requireRef(id: unknown): ActorRefFrom<HandleMachine> {
    if (typeof id !== 'string') throw new BadArgumentError('id', 'a handle id string', id);
    const ref = refs.get(id);
    if (!ref) throw new UnknownHandleError(id, [...refs.keys()]);
    return ref;
  }

  function snapshotOf(id: string): HandleSnapshot {
    return toHandleSnapshot(requireRef(id).getSnapshot());
  }

  /** What a handle's chart emits, as runtime events: nothing is derived beside the chart. */
  function relay(ref: ActorRefFrom<HandleMachine>, event: HandleEmitted): void {
    switch (event.type) {
      case 'status':
        waiters.notify(ref.getSnapshot().context.spec.id, event.status === 'running');
        if (hub.hasListeners) {
          const snapshot = ref.getSnapshot();
          hub.emit({ type: 'handle-update', ...refOf(snapshot), handle: toHandleSnapshot(snapshot) });
        }
        return;
      case 'run-start':
        if (hub.hasListeners) hub.emit({ type: 'run-start', ...refOf(ref.getSnapshot()), runId: event.runId, input: event.input.message });
        return;
      case 'run-end': {
        if (!hub.hasListeners) return;
        const { type: _type, input: _input, ...report } = event;
        hub.emit({ type: 'run-end', ...refOf(ref.getSnapshot()), ...report });
        return;
      }
      case 'input-end':
        if (event.handedBack && handedBack) {
          const id = ref.getSnapshot().context.spec.id;
          const list = handedBack.get(id) ?? [];
          list.push(event.input.message);
          handedBack.set(id, list);
        }
        if (hub.hasListeners) {
          hub.emit({
            type: 'input-end',
            ...refOf(ref.getSnapshot()),
            input: event.input.message,
            handedBack: event.handedBack,
            outcome: event.run?.outcome ?? null,
            runId: event.run?.runId ?? null,
          });
        }
        return;
    }
  }

  function ensureRunning(): void {
    if (!running) throw new RuntimeShutDownError();
  }

  /** The handle and its descendants, deepest first. */
  const subtree = (id: string): string[] => subtreeOf(actor.getSnapshot().context, id);

  function command(id: string, command: CascadingCommand): Set<string> {
    const targets = subtree(id);
    // Only handles whose chart takes the command report what they hand back.
    const applies = new Set(targets.filter((target) => requireRef(target).getSnapshot().can({ type: command })));
    actor.send({ type: 'HANDLE.COMMAND', id, command, cascade: true });
    return applies;
  }

  const returnedOf = (id: string, applied: Set<string>): string[] =>
    applied.has(id) ? requireRef(id).getSnapshot().context.returned.map((input: QueuedInput) => input.message) : [];

  function spawnWith(given: SpawnOptions | undefined, internals: SpawnInternals): HandleSnapshot {
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
      limits: runLimits,
      delegated: internals.delegated ?? false,
    };
    if (hub.hasListeners) {
      hub.emit({
        type: 'spawn-request',
        name: spawnOptions.name ?? null,
        parentId,
        depth: (parentId === null ? 0 : (supervisor.context.tree[parentId]?.depth ?? 0)) + 1,
        goal: spec.goal,
        model: spec.model,
      });
    }
    const refusal = spawnRefusal(supervisor.context, spec, running);
    if (refusal) throw refusal;
    actor.send({ type: 'HANDLE.SPAWN', spec });
    const entry = actor.getSnapshot().context.tree[id];
    const ref = entry ? (actor.system.get(handleSystemId(entry.key)) as ActorRefFrom<HandleMachine> | undefined) : undefined;
    if (!ref) throw new Error(`subagents: the supervisor did not spawn \`${id}\`; this is a bug`);
    refs.set(id, ref);
    ref.on('*', (event) => relay(ref, event));
    ref.subscribe({ error: report });
    const snapshot = toHandleSnapshot(ref.getSnapshot());
    if (hub.hasListeners) hub.emit({ type: 'handle-spawn', ...refOf(ref.getSnapshot()), handle: snapshot });
    if (spawnOptions.message !== undefined) return runtime.send(id, spawnOptions.message);
    return snapshot;
  }

  function enqueue(id: string, message: string, given?: SendOptions): QueuedInput {
    ensureRunning();
    const sendOptions = optionsObject(given, 'options');
    const ref = requireRef(id);
    requireMessage(message);
    if (sendOptions.interrupt !== undefined && typeof sendOptions.interrupt !== 'boolean') {
      throw new BadArgumentError('interrupt', 'a boolean', sendOptions.interrupt);
    }
    const input: QueuedInput = { seq: inputSeq + 1, message };
    const event: HandleEvent = { type: 'INPUT.SEND', input, interrupt: sendOptions.interrupt ?? false };
    // The chart decides what is allowed; a refusal becomes a typed error and nothing is taken.
    if (!ref.getSnapshot().can(event)) throw new HandleClosedError(id);
    inputSeq += 1;
    ref.send(event);
    return input;
  }

  const runtime: CoreRuntime = {
    actor,
    secrets,
    emit: (event) => hub.emit(event),
    listen(id, listener) {
      const subscription = requireRef(id).on('*', listener);
      return () => subscription.unsubscribe();
    },
    get limits() {
      return { ...actor.getSnapshot().context.limits };
    },
    spawn: (given) => spawnWith(given, {}),
    spawnWith,
    enqueue,

    send(id, message, given) {
      enqueue(id, message, given);
      return snapshotOf(id);
    },

    wait(ids, given) {
      try {
        const waitOptions = optionsObject(given, 'options');
        const list = typeof ids === 'string' ? [ids] : ids;
        if (!Array.isArray(list) || list.length === 0) {
          throw new BadArgumentError('ids', 'a handle id or a non-empty array of handle ids', ids);
        }
        for (const id of list) requireRef(id);
        const timeoutMs = requireTimeout(waitOptions.timeoutMs ?? 30_000);
        return waiters.wait([...new Set<string>(list)], timeoutMs);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    interrupt(id) {
      requireRef(id);
      command(id, 'RUN.INTERRUPT');
      return snapshotOf(id);
    },

    cancel(id) {
      requireRef(id);
      const applied = command(id, 'RUN.CANCEL');
      const descendants = subtree(id).filter((other) => other !== id);
      return {
        handle: snapshotOf(id),
        discarded: returnedOf(id, applied),
        descendants: descendants.map((other) => ({ id: other, discarded: returnedOf(other, applied) })),
      };
    },

    close(id) {
      requireRef(id);
      const before = new Map(subtree(id).map((other) => [other, statusOf(requireRef(other).getSnapshot())]));
      const applied = command(id, 'HANDLE.CLOSE');
      const descendants = [...before.keys()].filter((other) => other !== id);
      return {
        handle: snapshotOf(id),
        previousStatus: before.get(id) ?? 'closed',
        unprocessed: returnedOf(id, applied),
        descendants: descendants.map((other) => ({
          id: other,
          previousStatus: before.get(other) ?? 'closed',
          unprocessed: returnedOf(other, applied),
        })),
      };
    },

    resume(id) {
      ensureRunning();
      const ref = requireRef(id);
      const status = statusOf(ref.getSnapshot());
      if (!ref.getSnapshot().can({ type: 'HANDLE.RESUME' })) throw new HandleStateError(id, 'a closed or interrupted handle', status);
      ref.send({ type: 'HANDLE.RESUME' });
      return snapshotOf(id);
    },

    forget(id) {
      requireRef(id);
      const ids = subtree(id);
      for (const other of ids) {
        const status = statusOf(requireRef(other).getSnapshot());
        if (status !== 'closed') {
          throw new BadArgumentError('id', `a closed handle whose descendants are closed (\`${other}\` is ${status}; close(\`${id}\`) first)`, id);
        }
      }
      actor.send({ type: 'HANDLE.FORGET', id });
      for (const other of ids) refs.delete(other);
      return ids;
    },

    get(id) {
      return snapshotOf(id);
    },

    list(given) {
      const filter = optionsObject(given, 'filter');
      const result: HandleSnapshot[] = [];
      for (const ref of refs.values()) {
        const snapshot = toHandleSnapshot(ref.getSnapshot());
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

    events(given) {
      return hub.iterate(given instanceof AbortSignal ? { signal: given } : optionsObject(given, 'options'));
    },

    shutdown() {
      if (!running) return Promise.resolve({ unprocessed: [] });
      running = false;
      // Closing ends every run in flight (outcome `cancelled`, its work aborted) and hands back every queued input.
      handedBack = new Map();
      actor.send({ type: 'SUPERVISOR.SHUTDOWN' });
      const unprocessed = [...handedBack].map(([handleId, inputs]) => ({ handleId, inputs }));
      handedBack = null;
      waiters.settleAll();
      // Closed, the handles' actors are stopped in batches: one step per batch keeps each step small.
      const ids = [...refs.keys()];
      for (let start = 0; start < ids.length; start += STOP_BATCH) actor.send({ type: 'HANDLES.STOP', ids: ids.slice(start, start + STOP_BATCH) });
      actor.stop();
      hub.close();
      return Promise.resolve({ unprocessed });
    },
  };
  return runtime;
}

function pickLimits(options: Partial<SupervisorLimits>): Partial<SupervisorLimits> {
  const picked: Partial<SupervisorLimits> = {};
  if (options.maxSpawnDepth !== undefined) picked.maxSpawnDepth = options.maxSpawnDepth;
  if (options.maxConcurrentChildren !== undefined) picked.maxConcurrentChildren = options.maxConcurrentChildren;
  if (options.maxConcurrentRuns !== undefined) picked.maxConcurrentRuns = options.maxConcurrentRuns;
  return picked;
}
