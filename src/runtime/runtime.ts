import { nanoid } from 'nanoid';
import { createActor } from 'xstate';
import type { ActorRefFrom } from 'xstate';
import { BadArgumentError, HandleClosedError, HandleStateError, RuntimeShutDownError, UnknownHandleError } from '../errors.js';
import { handleMachine } from '../machines/handle.js';
import type { HandleEmitted, HandleEvent, HandleMachine } from '../machines/handle.js';
import { DEFAULT_LIMITS, depthOf, entryOf, spawnRefusal, startHandleActor, subtreeOf, supervisorMachine } from '../machines/supervisor.js';
import type { CascadingCommand, SupervisorLimits } from '../machines/supervisor.js';
import type { HandleSnapshot, QueuedInput } from '../types.js';
import { EventHub } from './events.js';
import { refOf, statusOf, toHandleSnapshot } from './snapshot.js';
import { sanitizeInspectionObserver } from './inspection.js';
import { createRunActor } from './run-actor.js';
import { redactingLogger, resolveLogger } from './logger.js';
import type { CoreRuntime, CoreRuntimeOptions, SendOptions, SpawnInternals, SpawnOptions } from './runtime-types.js';
import { Waiters } from './waiters.js';
import { optionsObject, requireMessage, requireTimeout, validateCoreOptions, validateLimits } from './validate.js';

export { validateCoreOptions } from './validate.js';

export type * from './runtime-types.js';

/** The limits `setLimits` changes. */
const SETTABLE_LIMITS: readonly string[] = ['maxSpawnDepth', 'maxConcurrentChildren', 'maxConcurrentRuns'];

/** Handles stopped per supervisor step at shutdown. */
const STOP_BATCH = 256;

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
  const logger = redactingLogger(resolveLogger(options.logger), secrets);
  const report = (error: unknown) => {
    try {
      (options.onListenerError ?? ((e: unknown) => logger.error('a listener or hook threw', e)))(error);
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

  const handleLogic = handleMachine.provide({ actors: { agentRun } });
  const actor = createActor(
    supervisorMachine,
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
        depth: (depthOf(supervisor.context, parentId) ?? 0) + 1,
        goal: spec.goal,
        model: spec.model,
      });
    }
    const refusal = spawnRefusal(supervisor.context, spec, running);
    if (refusal) throw refusal;
    actor.send({ type: 'HANDLE.SPAWN', spec });
    const entry = entryOf(actor.getSnapshot().context, id);
    if (!entry) throw new Error(`subagents: the supervisor did not admit \`${id}\`; this is a bug`);
    const ref = startHandleActor(actor, handleLogic, spec, entry);
    refs.set(id, ref);
    ref.on('*', (event) => relay(ref, event));
    ref.subscribe({ error: (error) => logger.error(`the actor of handle \`${id}\` failed; its slot was released`, error) });
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
      const unknown = Object.keys(optionsObject(partial, 'limits')).filter((key) => !SETTABLE_LIMITS.includes(key));
      if (unknown.length > 0) {
        throw new BadArgumentError(`limits.${unknown[0]}`, `one of ${SETTABLE_LIMITS.join(', ')} (the run limits are fixed at createRuntime)`, unknown[0]);
      }
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
      // Every handle is closed, then its actor stopped, in batches: one step per batch keeps each step small.
      const ids = [...refs.keys()];
      for (let start = 0; start < ids.length; start += STOP_BATCH) actor.send({ type: 'HANDLES.CLOSE', ids: ids.slice(start, start + STOP_BATCH) });
      const unprocessed = [...handedBack].map(([handleId, inputs]) => ({ handleId, inputs }));
      handedBack = null;
      waiters.settleAll();
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
