import { assertEvent, assign, createActor, enqueueActions, setup } from 'xstate';
import type { ActorRefFrom, ActorSystem, ActorSystemInfo, AnyActorRef } from 'xstate';
import { DepthLimitError, SpawningPausedError, BadArgumentError, RuntimeShutDownError } from '../errors.js';
import type { SubagentsError } from '../errors.js';
import type { HandleEvent, HandleInput, HandleMachine, HandleToSupervisorEvent } from './handle.js';
import type { OnParentStop } from '../types.js';
import { SupervisorBook } from './supervisor-book.js';
import { compactActorOptions } from './handle-footprint.js';
import type { Grant, TreeEntry } from './supervisor-book.js';

export { SupervisorBook } from './supervisor-book.js';
export type { ParentLoad, RemovedHandle, StopReach, SupervisorBookJSON, TreeEntry } from './supervisor-book.js';

/**
 * What the supervisor emits (listen with `actor.on`): a child that goes on
 * while its parent stops, once per stop that passes it by; a handle actor
 * that failed (for the runtime to report: its own handles carry no observer).
 */
export type SupervisorEmitted =
  | { type: 'child-detach'; id: string; parentId: string | null; command: CascadingCommand }
  | { type: 'handle-failed'; id: string; error: unknown };

/** The limits the supervisor enforces. */
export interface SupervisorLimits {
  /** Depth a spawning parent must stay below. The root agent is depth 0. @default 1 */
  maxSpawnDepth: number;
  /** Running children per parent. @default 3 */
  maxConcurrentChildren: number;
  /** Running handles in the whole tree; `null` for no global cap. @default null */
  maxConcurrentRuns: number | null;
}

export interface SupervisorContext {
  limits: SupervisorLimits;
  paused: boolean;
  /**
   * The tree of handles and the run slots. The one mutable object of the
   * context: this machine's actions alone call its mutating methods, so that
   * a spawn, a release or a forget costs O(1) per handle however many exist.
   * It shows itself (JSON, the inspector) as counts: `book.toJSON()`.
   */
  book: SupervisorBook;
}

/** What a caller asks to spawn; depth and key are the supervisor's to decide. */
export type SpawnSpec = Omit<HandleInput, 'key' | 'depth'>;

/** A command that cascades from a handle to its descendants. */
export type CascadingCommand = 'RUN.INTERRUPT' | 'RUN.CANCEL' | 'HANDLE.CLOSE';

export type SupervisorEvent =
  | { type: 'HANDLE.SPAWN'; spec: SpawnSpec }
  /**
   * Puts a handle restored from a store back in the tree, under its parent
   * (restored before it): the limits of the day it was spawned admitted it,
   * so today's depth and pause do not refuse it.
   */
  | { type: 'HANDLE.RESTORE'; id: string; parentId: string | null; onParentStop?: OnParentStop }
  | { type: 'HANDLE.COMMAND'; id: string; command: CascadingCommand; cascade: boolean }
  /** Stops and drops a handle and its descendants (the runtime checks they are all closed). */
  | { type: 'HANDLE.FORGET'; id: string }
  | { type: 'SPAWNING.PAUSE'; paused: boolean }
  | { type: 'LIMITS.SET'; limits: SupervisorLimits }
  | { type: 'SUPERVISOR.SHUTDOWN' }
  /** Stops the actors of these handles (after shutdown; sent in batches so each step stays small). */
  | { type: 'HANDLES.STOP'; ids: string[] }
  /** Closes these handles (after shutdown; sent in batches, each step small). */
  | { type: 'HANDLES.CLOSE'; ids: string[] }
  | HandleToSupervisorEvent;

export const DEFAULT_LIMITS: SupervisorLimits = {
  maxSpawnDepth: 1,
  maxConcurrentChildren: 3,
  maxConcurrentRuns: null,
};

export interface SupervisorInput {
  limits?: Partial<SupervisorLimits>;
}

/** Depth of a parent: the root agent (`null`) is 0; `undefined` for an unknown id. */
export function depthOf(context: SupervisorContext, parentId: string | null): number | undefined {
  return context.book.depthOf(parentId);
}

/** A handle's place in the tree: its key, parent and depth. */
export function entryOf(context: SupervisorContext, id: string): TreeEntry | undefined {
  return context.book.entry(id);
}

/**
 * Why a spawn would be refused, or `null` if it is allowed. The supervisor's
 * guard and the runtime (to throw a typed error to the caller) share it.
 */
export function spawnRefusal(
  context: SupervisorContext,
  spec: Pick<SpawnSpec, 'id' | 'parentId'>,
  running = true,
): SubagentsError | null {
  if (!running) return new RuntimeShutDownError();
  if (context.paused) return new SpawningPausedError();
  if (context.book.has(spec.id)) return new BadArgumentError('name', 'a name no other handle uses', spec.id);
  const parentDepth = depthOf(context, spec.parentId);
  if (parentDepth === undefined) {
    return new BadArgumentError('parentId', 'the id of an existing handle or null for the root agent', spec.parentId);
  }
  if (parentDepth >= context.limits.maxSpawnDepth) return new DepthLimitError(parentDepth, context.limits.maxSpawnDepth);
  return null;
}

/** The handle and every descendant, deepest first so children stop before their parents see it. */
export function subtreeOf(context: SupervisorContext, id: string): string[] {
  return context.book.subtreeOf(id);
}

/** The id a handle actor is registered under in the actor system. */
export const handleSystemId = (key: string) => `handle.${key}`;

type HandleRef = ActorRefFrom<HandleMachine>;

/** A handle actor by its key, through the actor system's registry (a map: O(1)). */
const handleRef = (system: Pick<ActorSystem<ActorSystemInfo>, 'get'>, key: string): HandleRef | undefined => system.get(handleSystemId(key)) as HandleRef | undefined;

/** Tells each handle given a slot. */
function grantSlots(
  grants: readonly Grant[],
  enqueue: { sendTo: (ref: HandleRef, event: HandleEvent) => void },
  system: Pick<ActorSystem<ActorSystemInfo>, 'get'>,
): void {
  for (const grant of grants) {
    const ref = handleRef(system, grant.key);
    if (ref) enqueue.sendTo(ref, { type: 'SLOT.GRANTED', slotSeq: grant.slotSeq });
  }
}

/**
 * Starts the actor of a handle the supervisor has admitted (`HANDLE.SPAWN`
 * put it in the tree with its key and depth): an actor of the supervisor's
 * system with the supervisor as its parent, registered under its key.
 * Started from outside any transition, so its first steps run on their own.
 */
export function startHandleActor(
  supervisor: AnyActorRef,
  logic: HandleMachine,
  spec: SpawnSpec,
  entry: Pick<TreeEntry, 'key' | 'depth'>,
): ActorRefFrom<HandleMachine> {
  // Field by field: a spread followed by new fields would give each handle's input a hidden class of its own.
  const input = {
    id: spec.id,
    key: entry.key,
    name: spec.name,
    parentId: spec.parentId,
    depth: entry.depth,
    role: spec.role,
    agentType: spec.agentType,
    model: spec.model,
    goal: spec.goal,
    limits: spec.limits,
    delegated: spec.delegated,
    onParentStop: spec.onParentStop,
    setup: spec.setup,
    budget: spec.budget,
  } satisfies Record<keyof HandleInput, unknown>;
  return compactActorOptions(createActor(logic, { parent: supervisor, id: entry.key, systemId: handleSystemId(entry.key), input }).start());
}

/**
 * The supervisor: spawns handle actors, keeps the parent → children tree,
 * enforces spawn depth and run concurrency, and cascades stops. Its actions
 * never throw (a throwing parent would leave spawned children running,
 * xstate#5153): bad requests are refused by guards and ignored.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- XState's type-only declaration
    input: {} as SupervisorInput,
    emitted: {} as SupervisorEmitted,
  },
  actions: {
    /**
     * Admits a handle: its key, depth and place in the tree. Its actor is
     * started by `startHandleActor`: an actor of the supervisor's system with
     * the supervisor as its parent (it reports to it, fails to it and shows in
     * the inspector), but not an XState child of its snapshot: XState copies a
     * machine's children on every spawn and stop, which made spawning,
     * forgetting and shutting down n handles cost O(n²). Registered by key in
     * the system, each is found, started and stopped in O(1).
     */
    admitHandle: enqueueActions(({ context, event }) => {
      assertEvent(event, ['HANDLE.SPAWN', 'HANDLE.RESTORE']);
      if (event.type === 'HANDLE.SPAWN') context.book.admit(event.spec.id, event.spec.parentId, event.spec.onParentStop);
      else context.book.admit(event.id, event.parentId, event.onParentStop);
    }),
    /**
     * A stop goes down the subtree to every child whose policy is `cascade`;
     * a child that detaches is passed by with its descendants, and the slot
     * it holds stops counting under its parent.
     */
    cascade: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'HANDLE.COMMAND');
      const { book } = context;
      const reach = event.cascade ? book.stopReach(event.id) : { stopped: [event.id], detached: [] };
      for (const id of reach.stopped) {
        const key = book.keyOf(id);
        const ref = key === undefined ? undefined : handleRef(system, key);
        if (ref) enqueue.sendTo(ref, { type: event.command } satisfies HandleEvent);
      }
      for (const id of reach.detached) {
        grantSlots(book.detach(id), enqueue, system);
        enqueue.emit({ type: 'child-detach', id, parentId: book.entry(id)?.parentId ?? null, command: event.command });
      }
    }),
    forgetSubtree: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'HANDLE.FORGET');
      for (const removed of context.book.removeSubtree(event.id)) {
        const ref = handleRef(system, removed.key);
        if (ref) enqueue.stopChild(ref);
      }
    }),
    /**
     * Closes (each hands back what it holds) or stops the actors of a batch of
     * handles after shutdown. Batches, because XState defers a transition's
     * built-in sends and stops to its end, in one queue it empties with
     * `shift()`: quadratic for tens of thousands in one step.
     */
    closeOrStopHandles: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, ['HANDLES.CLOSE', 'HANDLES.STOP']);
      for (const id of event.ids) {
        const key = context.book.keyOf(id);
        const ref = key === undefined ? undefined : handleRef(system, key);
        if (!ref) continue;
        if (event.type === 'HANDLES.STOP') enqueue.stopChild(ref);
        // A closed handle has nothing to close: the event would cost it a step that changes nothing.
        else if (ref.getSnapshot().value !== 'closed') enqueue.sendTo(ref, { type: 'HANDLE.CLOSE' } satisfies HandleEvent);
      }
    }),
    /**
     * A handle actor failed (its actions never throw, so this is a bug or a
     * corrupted snapshot): it loses its slot, so one bad handle cannot hold
     * capacity or stop the tree. The runtime reports the failure.
     */
    dropFailedHandle: enqueueActions(({ context, event, enqueue, system }) => {
      const key = event.type.slice('xstate.error.actor.'.length);
      const id = context.book.idOfKey(key);
      if (id !== undefined) enqueue.emit({ type: 'handle-failed', id, error: (event as { error?: unknown }).error });
      grantSlots(context.book.releaseAnySlot(key), enqueue, system);
    }),
    releaseWithoutGrant: enqueueActions(({ context, event }) => {
      assertEvent(event, 'SLOT.RELEASE');
      context.book.releaseSlot(event.key, event.slotSeq, event.parentId);
    }),
    setPaused: assign(({ event }) => {
      assertEvent(event, 'SPAWNING.PAUSE');
      return { paused: event.paused };
    }),
    setLimits: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, 'LIMITS.SET');
      enqueue.assign({ limits: event.limits });
      grantSlots(context.book.setLimits(event.limits.maxConcurrentChildren, event.limits.maxConcurrentRuns), enqueue, system);
    }),
    scheduleSlot: enqueueActions(({ context, event, enqueue, system }) => {
      assertEvent(event, ['SLOT.REQUEST', 'SLOT.RELEASE']);
      const { book } = context;
      const grants =
        event.type === 'SLOT.REQUEST' ? book.requestSlot(event.key, event.slotSeq, event.parentId) : book.releaseSlot(event.key, event.slotSeq, event.parentId);
      grantSlots(grants, enqueue, system);
    }),
  },
  guards: {
    canSpawn: ({ context, event }) => event.type === 'HANDLE.SPAWN' && spawnRefusal(context, event.spec) === null,
    isKnownHandle: ({ context, event }) => event.type === 'HANDLE.COMMAND' && context.book.has(event.id),
    canRestore: ({ context, event }) =>
      event.type === 'HANDLE.RESTORE' && !context.book.has(event.id) && (event.parentId === null || context.book.has(event.parentId)),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const limits = { ...DEFAULT_LIMITS, ...input.limits };
    return { limits, paused: false, book: new SupervisorBook(limits) };
  },
  initial: 'active',
  on: {
    'SLOT.REQUEST': { actions: 'scheduleSlot' },
    'SLOT.RELEASE': { actions: 'scheduleSlot' },
    'HANDLE.COMMAND': { guard: 'isKnownHandle', actions: 'cascade' },
    'HANDLE.FORGET': { actions: 'forgetSubtree' },
    // Handled, so a failing handle never puts the supervisor itself in error.
    'xstate.error.actor.*': { actions: 'dropFailedHandle' },
  },
  states: {
    active: {
      on: {
        'HANDLE.SPAWN': { guard: 'canSpawn', actions: 'admitHandle' },
        'HANDLE.RESTORE': { guard: 'canRestore', actions: 'admitHandle' },
        'SPAWNING.PAUSE': { actions: 'setPaused' },
        'LIMITS.SET': { actions: 'setLimits' },
        'SUPERVISOR.SHUTDOWN': { target: 'shutDown' },
      },
    },
    // Handles stay (their snapshots are readable) but no new work is taken; the runtime then stops their actors.
    shutDown: {
      on: {
        'HANDLES.CLOSE': { actions: 'closeOrStopHandles' },
        'HANDLES.STOP': { actions: 'closeOrStopHandles' },
        // Shutting down starts nothing: released slots are not handed on, and no new slot is granted.
        'SLOT.REQUEST': {},
        'SLOT.RELEASE': { actions: 'releaseWithoutGrant' },
      },
    },
  },
});

export type SupervisorMachine = typeof supervisorMachine;
