import { nanoid } from 'nanoid';
import { createActor } from 'xstate';
import type { ActorRefFrom } from 'xstate';
import { BadArgumentError, HandleClosedError, RuntimeShutDownError, UnknownHandleError } from '../errors.js';
import { advanceRevision, handleMachine } from '../machines/handle.js';
import type { HandleEvent, HandleMachine } from '../machines/handle.js';
import { compactActorOptions, setupSharing } from '../machines/handle-footprint.js';
import { DEFAULT_LIMITS, depthOf, entryOf, handleSystemId, spawnRefusal, startHandleActor, subtreeOf, supervisorMachine } from '../machines/supervisor.js';
import type { HandleSnapshot, QueuedInput, WorktreeReport } from '../types.js';
import { EventHub } from './events.js';
import { sanitizeInspectionObserver } from './inspection.js';
import type { Logger } from '../logger.js';
import type { AnyTool } from '../toolkit/define-tool.js';
import { createCommands } from './handle-commands.js';
import { createRelay } from './relay.js';
import { createRunActor } from './run-actor.js';
import type { RunActorDeps, RunApprovals } from './run-actor.js';
import { Approvals } from './approvals.js';
import type { RunOf } from './run-types.js';
import type { HandleApi, HandleSpawn, HandleApiOptions, SendOptions } from './runtime-types.js';
import { toHandleSnapshot as viewOf, refOf } from './snapshot.js';
import type { HandleActorSnapshot } from './snapshot.js';
import { optionsObject, pickLimits, requireMessage, requireTimeout, validateActivityOptions, validateLimits } from './validate.js';
import { Waiters } from './waiters.js';
import type { TelemetryHooks } from '../telemetry-hooks.js';
import { LOST_ON_RESTART, createHandleWriter, inputsOf, restoredContext, restoredPhase, storedHandles } from './durable-handles.js';
import type { StoreContents } from '../store/store-types.js';
import { createLedger } from './budgets.js';
import type { LedgerDeps } from './budgets.js';
import { DEFAULT_ON_PARENT_STOP, announceDetaches, checkOnParentStop } from './stop-policy.js';

/** The limits `setLimits` changes. */
const SETTABLE_LIMITS: readonly string[] = ['maxSpawnDepth', 'maxConcurrentChildren', 'maxConcurrentRuns'];

export interface HandlesDeps<R> extends LedgerDeps {
  run: RunOf<R>;
  logger: Logger;
  /** The runtime a run is given (to delegate further). */
  runtime(): R;
  /** The tools of a handle, resolved from its setup. */
  toolsOf(handleId: string): readonly AnyTool[];
  /** The working directory of a handle's run (see {@link RunActorDeps.workspace}). */
  workspace: RunActorDeps<R>['workspace'];
  /** Where runs are traced; told of each spawn, in the spawner's context. */
  telemetry?: TelemetryHooks | undefined;
  /** A handle's git worktree, shown in its snapshot. @default none */
  worktreeOf?: (handleId: string) => WorktreeReport | null;
}

/** Handles stopped per supervisor step at shutdown. */
const STOP_BATCH = 256;

/**
 * The handle API: a supervisor actor that admits handles, and one handle
 * actor per subagent whose chart owns its lifecycle. What the charts emit
 * becomes runtime events and answers; nothing is derived beside the charts.
 * Internal: `createRuntime` builds the public runtime on it.
 */
export function createHandles<R>(options: HandleApiOptions, deps: HandlesDeps<R>): HandleApi {
  const { logger } = deps;
  const limits = validateLimits({ ...DEFAULT_LIMITS, ...pickLimits(options) });
  const { runLimits, secrets } = options;
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
  const { worktreeOf } = deps;
  const toHandleSnapshot = (snapshot: HandleActorSnapshot): HandleSnapshot => viewOf(snapshot, worktreeOf);
  const relay = createRelay(hub, waiters, toHandleSnapshot);
  let inputSeq = 0;
  /** Alike handles share one setup. */
  const shareSetup = setupSharing();
  let running = true;

  // Hooks are listeners like any other: called after the transition that caused them.
  const { onSubagentStart, onSubagentStop } = options;
  if (onSubagentStart || onSubagentStop) {
    hub.subscribe(
      (event) => {
        if (event.type === 'run-start') onSubagentStart?.(event);
        else if (event.type === 'run-end') onSubagentStop?.(event);
      },
      ['run-start', 'run-end'],
    );
  }

  const activity = validateActivityOptions(options);
  const approvals = new Approvals({
    handler: activity.onApproval,
    timeoutMs: activity.approvalTimeoutMs,
    secrets,
    emit: (event) => hub.emit(event),
    reportError: report,
  });
  /** How each run in flight asks for approval, by handle id: calls through a dispatcher go the way the run's own do. */
  const runApprovals = new Map<string, RunApprovals>();
  const runs = createRunActor({
    ...deps,
    journalChanged: (id) => {
      const ref = refs.get(id);
      if (ref) writer.journal(ref);
    },
    refOf: (id) => refs.get(id),
    emit: (event) => hub.emit(event),
    listening: (type) => hub.wants(type),
    secrets: () => secrets,
    approvals,
    progressIntervalMs: activity.progressIntervalMs,
    registerApprovals(id, ask) {
      runApprovals.set(id, ask);
      return () => {
        if (runApprovals.get(id) === ask) runApprovals.delete(id);
      };
    },
  });
  const handleLogic = handleMachine.provide({ actors: { agentRun: runs.logic }, actions: { abortRun: ({ self }) => runs.abort(self.getSnapshot().children.agentRun) } });
  const inspect = options.inspect
    ? { inspect: sanitizeInspectionObserver(options.inspect, { ...options.inspection, secrets: [...(options.inspection?.secrets ?? []), ...secrets] }) }
    : {};
  const actor = createActor(supervisorMachine, { input: { limits }, ...inspect });
  // A handle actor that fails is reported once here, from its supervisor: no observer on each handle.
  actor.on('handle-failed', ({ id, error }) => logger.error(`the actor of handle \`${id}\` failed; its slot was released`, error));
  actor.start();
  const store = options.store ?? null;
  const writer = createHandleWriter(store);
  const ledger = createLedger(options.budget, deps, refs);

  /** Wires a handle actor in: found by id, its emitted events relayed, its changes written to the store. */
  function attach(id: string, ref: ActorRefFrom<HandleMachine>): void {
    refs.set(id, ref);
    // One listener for all it emits: each listener costs every idle handle its closure and its set.
    ref.on('*', (event) => {
      ledger.observe(id, event, commands);
      relay.relay(ref, event);
    });
    writer.watch(ref);
  }

  function requireRef(id: unknown): ActorRefFrom<HandleMachine> {
    if (typeof id !== 'string') throw new BadArgumentError('id', 'a handle id string', id);
    const ref = refs.get(id);
    if (!ref) throw new UnknownHandleError(id, [...refs.keys()]);
    return ref;
  }

  const snapshotOf = (id: string): HandleSnapshot => toHandleSnapshot(requireRef(id).getSnapshot());

  function ensureRunning(): void {
    if (!running) throw new RuntimeShutDownError();
  }

  /** The handle and its descendants, deepest first. */
  const subtree = (id: string): string[] => subtreeOf(actor.getSnapshot().context, id);
  /** Who a stop of the handle reaches, and which children it passes by. */
  const stopReach = (id: string) => actor.getSnapshot().context.book.stopReach(id);
  announceDetaches(actor, hub, (id) => refs.get(id)?.getSnapshot(), toHandleSnapshot);
  const forgotten = (id: string) => void (refs.delete(id), writer.forget([id]), ledger.forget(id));
  const commands = createCommands({ actor, refOf: requireRef, subtree, stopReach, ensureRunning, toHandleSnapshot, forgotten });

  /** Spawns a handle and returns its id (`spawn` returns its snapshot). */
  function spawnId(request: HandleSpawn): string {
    ensureRunning();
    const id = request.name ?? `sa_${nanoid(10)}`;
    if (typeof id !== 'string' || !/^[\w.-]{1,64}$/.test(id)) {
      throw new BadArgumentError('name', 'a nickname of 1-64 letters, digits, `_`, `-` or `.`', request.name);
    }
    const spec = {
      id,
      name: id,
      parentId: request.parentId,
      role: request.role,
      agentType: request.agentType,
      model: request.model,
      goal: request.goal,
      limits: runLimits,
      delegated: request.delegated,
      onParentStop: checkOnParentStop(request.onParentStop, 'onParentStop') ?? DEFAULT_ON_PARENT_STOP,
      setup: shareSetup(request.setup),
      budget: ledger.grant(request.parentId, request.budget, deps.priceOf?.(request.model, request.setup?.provider ?? null) ?? null),
    };
    const supervisor = actor.getSnapshot();
    if (hub.wants('spawn-request')) {
      const depth = (depthOf(supervisor.context, spec.parentId) ?? 0) + 1;
      hub.emit({ type: 'spawn-request', name: request.name ?? null, parentId: spec.parentId, depth, goal: spec.goal, model: spec.model });
    }
    const refusal = spawnRefusal(supervisor.context, spec, running);
    if (refusal) throw refusal;
    actor.send({ type: 'HANDLE.SPAWN', spec });
    const entry = entryOf(actor.getSnapshot().context, id);
    if (!entry) throw new Error(`subagents: the supervisor did not admit \`${id}\`; this is a bug`);
    const ref = startHandleActor(actor, handleLogic, spec, entry);
    attach(id, ref);
    ledger.reserve(id, spec.parentId, spec.budget);
    deps.telemetry?.handleSpawned(id);
    if (hub.wants('handle-spawn')) hub.emit({ type: 'handle-spawn', ...refOf(ref.getSnapshot()), handle: toHandleSnapshot(ref.getSnapshot()) });
    if (request.message !== undefined) enqueue(id, request.message);
    return id;
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

  /** Restored handles that go on by themselves once the runtime exists: a slot to ask for, or a lost input to run again. */
  const toStart: Array<() => void> = [];

  /**
   * Puts every stored handle back, in spawn order, each in the state its
   * chart was in, without re-running anything: a restored chart starts no
   * invoked run (the run in flight died with its process). That run then
   * ends by a transition of its chart, `interrupted` with the reason "lost on
   * restart"; a handle that waited for a slot asks for one again.
   */
  function restore(contents: StoreContents): void {
    const lost: Array<{ id: string; input: QueuedInput | null; delegated: boolean }> = [];
    const waitingForSlot: Array<{ revision: number; ask: () => void }> = [];
    for (const stored of storedHandles(contents)) {
      const { spec } = stored.context;
      actor.send({ type: 'HANDLE.RESTORE', id: spec.id, parentId: spec.parentId, onParentStop: spec.onParentStop ?? DEFAULT_ON_PARENT_STOP });
      const entry = entryOf(actor.getSnapshot().context, spec.id);
      if (!entry) {
        logger.warn(`the stored handle \`${spec.id}\` was not restored: its parent \`${String(spec.parentId)}\` is not in the store`);
        continue;
      }
      const context = restoredContext(stored.context, entry);
      advanceRevision(context.revision);
      for (const input of inputsOf(context)) inputSeq = Math.max(inputSeq, input.seq);
      const snapshot = handleLogic.resolveState({ value: stored.state, context });
      const ref = compactActorOptions(createActor(handleLogic, { parent: actor, id: entry.key, systemId: handleSystemId(entry.key), snapshot, input: context.spec }).start());
      attach(spec.id, ref);
      ledger.restore(spec.id, spec.parentId, spec.budget ?? null, stored.state === 'closed');
      const phase = restoredPhase(stored.state);
      if (phase === 'working') lost.push({ id: spec.id, input: context.current, delegated: spec.delegated });
      if (phase === 'awaitingSlot') {
        waitingForSlot.push({
          revision: context.revision,
          ask: () => actor.send({ type: 'SLOT.REQUEST', key: entry.key, parentId: spec.parentId, slotSeq: context.slotSeq }),
        });
      }
    }
    for (const { id } of lost) refs.get(id)?.send({ type: 'RUN.INTERRUPT', reason: LOST_ON_RESTART });
    // Waiting handles ask again in the order they asked before.
    for (const { ask } of waitingForSlot.sort((a, b) => a.revision - b.revision)) toStart.push(ask);
    if (options.restorePolicy === 'rerun') {
      // A delegation's child reports its lost run to its delegation, whose agent decides; a handle of yours runs it again.
      for (const { id, input, delegated } of lost) if (input && !delegated) toStart.push(() => enqueue(id, input.message));
    }
  }
  let restoredFrom = store ? store.load() : null;
  if (restoredFrom) restore(restoredFrom);

  return {
    actor,
    hub,
    store,
    takeRestored() {
      const contents = restoredFrom;
      restoredFrom = null;
      return contents;
    },
    startRestored() {
      for (const start of toStart.splice(0)) start();
    },
    contextOf: (id) => refs.get(id)?.getSnapshot().context,
    get limits() {
      return { ...actor.getSnapshot().context.limits };
    },
    spawn: (request) => snapshotOf(spawnId(request)),
    spawnId,
    enqueue,
    subtree,
    stopReach,
    onDetach(listener) {
      const subscription = actor.on('child-detach', ({ id }) => listener(id));
      return () => subscription.unsubscribe();
    },
    isWaitedFor: (id) => waiters.isWaitedFor(id),
    setupOf: (id) => refs.get(id)?.getSnapshot().context.spec.setup ?? null,
    conversationOf(id) {
      const context = refs.get(id)?.getSnapshot().context;
      if (!context) return [];
      return context.run ? [...context.results.conversation, ...context.run.messages] : context.results.conversation;
    },
    depthOf: (parentId) => depthOf(actor.getSnapshot().context, parentId),
    spawnRefusal: (parentId) => spawnRefusal(actor.getSnapshot().context, { id: '\u0000probe', parentId }, running),
    listen(id, listener) {
      const subscription = requireRef(id).on('*', listener);
      return () => subscription.unsubscribe();
    },
    send(id, message, given) {
      enqueue(id, message, given);
      return snapshotOf(id);
    },
    wait(ids, given) {
      try {
        const waitOptions = optionsObject(given, 'options');
        const list = typeof ids === 'string' ? [ids] : ids;
        if (!Array.isArray(list) || list.length === 0) throw new BadArgumentError('ids', 'a handle id or a non-empty array of handle ids', ids);
        for (const id of list) requireRef(id);
        const timeoutMs = requireTimeout(waitOptions.timeoutMs ?? 30_000);
        const { signal } = waitOptions;
        if (signal !== undefined && !(signal instanceof AbortSignal)) throw new BadArgumentError('signal', 'an AbortSignal', signal);
        return waiters.wait([...new Set<string>(list)], timeoutMs, signal);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    ...commands,
    resume(id) {
      if (typeof id === 'string' && refs.get(id)?.getSnapshot().value === 'closed') ledger.checkResume(id);
      return commands.resume(id);
    },
    ...ledger.methods(requireRef, snapshotOf),
    planBudgets: (parentId, requests) => ledger.plan(parentId, requests),
    get: snapshotOf,
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
      actor.send({ type: 'LIMITS.SET', limits: validateLimits({ ...actor.getSnapshot().context.limits, ...pickLimits(optionsObject(partial, 'limits')) }) });
    },
    approve: (requestId, answer) => approvals.approve(requestId, answer),
    requestApproval(agentId, ask, signal = new AbortController().signal) {
      const inRun = agentId === null ? undefined : runApprovals.get(agentId);
      if (inRun) return inRun(ask, signal);
      const spec = agentId === null ? null : requireRef(agentId).getSnapshot().context.spec;
      const who = spec
        ? { handleId: spec.id, parentId: spec.parentId, depth: spec.depth, goal: spec.goal, model: spec.model, runId: null }
        : { handleId: null, parentId: null, depth: 0, goal: null, model: options.rootModel ?? null, runId: null };
      return approvals.request(who, ask, signal, null);
    },
    subscribe(listener, types) {
      if (typeof listener !== 'function') throw new BadArgumentError('listener', 'a function', listener);
      return hub.subscribe(listener, types ?? null);
    },
    events(given) {
      return hub.iterate(given instanceof AbortSignal ? { signal: given } : optionsObject(given, 'options'));
    },
    shutdown(shutdownOptions) {
      if (!running) return { unprocessed: [] };
      running = false;
      // Kept: the store keeps every handle as it is now, unprocessed inputs included, for the next process.
      if (shutdownOptions?.keep) writer.detach();
      // Closing ends every run in flight (outcome `cancelled`, its work aborted) and hands back every queued input.
      relay.collectHandedBack();
      actor.send({ type: 'SUPERVISOR.SHUTDOWN' });
      // Every handle is closed, then its actor stopped, in batches: one step per batch keeps each step small.
      const ids = [...refs.keys()];
      if (!shutdownOptions?.keep) {
        for (let start = 0; start < ids.length; start += STOP_BATCH) actor.send({ type: 'HANDLES.CLOSE', ids: ids.slice(start, start + STOP_BATCH) });
      }
      const unprocessed = relay.takeHandedBack();
      waiters.settleAll();
      // Calls waiting outside any run (the root agent's, a dispatcher's) end here; those of runs ended with their run.
      approvals.endAll();
      for (let start = 0; start < ids.length; start += STOP_BATCH) actor.send({ type: 'HANDLES.STOP', ids: ids.slice(start, start + STOP_BATCH) });
      actor.stop();
      hub.close();
      // The store stays open for what the runtime still settles (worktrees being judged); its owner closes it.
      return { unprocessed };
    },
  };
}
