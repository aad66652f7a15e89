/**
 * Handles in a store: a handle's record is its chart's complete state (the
 * chart's state and context: status, queue, conversation, usage, run
 * counters, the plain-JSON setup), written whole when the handle comes, then
 * on every change as a patch of what changed (whole again on a store
 * without patches); a new runtime on the same store puts each one back in
 * the tree. Nothing is derived beside the charts: what is written is what
 * the chart holds.
 */
import type { ActorRefFrom, SnapshotFrom, StateValue } from 'xstate';
import type { HandleContext, HandleMachine } from '../machines/handle.js';
import type { Store, StoreContents } from '../store/store-types.js';
import type { QueuedInput } from '../types.js';
import { HandleDiff } from './handle-patch.js';

/** The collection of handles. */
export const HANDLES = 'handle';

/** The reason a run in flight when its process died is given, as its error. */
export const LOST_ON_RESTART = 'lost on restart';

/** A handle as stored: its chart's state and context, and its place in spawn order. */
export interface StoredHandle {
  /** Spawn order (the key it had in the supervisor): parents come before their children. */
  order: number;
  state: StateValue;
  context: HandleContext;
}

type HandleActorSnapshot = SnapshotFrom<HandleMachine>;

const recordOf = (snapshot: HandleActorSnapshot): StoredHandle => ({ order: Number(snapshot.context.spec.key), state: snapshot.value, context: snapshot.context });

/**
 * Writes a handle on every change of its chart's context or state, and of
 * its run journal; a step that changes none of them (progress re-arming
 * stale detection) writes nothing.
 */
export function createHandleWriter(store: Store | null) {
  let attached = store !== null;
  const watching = new Map<string, { write(snapshot: HandleActorSnapshot): void; subscription: { unsubscribe(): void } }>();

  function watch(ref: ActorRefFrom<HandleMachine>): void {
    if (!store) return;
    const first = ref.getSnapshot();
    const id = first.context.spec.id;
    let written: HandleDiff | null = null;
    const write = (snapshot: HandleActorSnapshot) => {
      if (!attached || snapshot.status !== 'active') return;
      const record = recordOf(snapshot);
      const patch = written ? written.next(record) : null;
      if (written && !patch) return;
      if (patch && store.patch) store.patch(HANDLES, id, patch);
      else store.put(HANDLES, id, record);
      written ??= new HandleDiff(record);
    };
    write(first);
    watching.set(id, { write, subscription: ref.subscribe({ next: write, error: () => {} }) });
  }

  return {
    watch,
    /**
     * The run in flight recorded a message or spend: its journal (in the
     * handle's context, changed in place) is written again (what changed of
     * it), so a run lost to a crash keeps its complete turns and its spend.
     */
    journal(ref: ActorRefFrom<HandleMachine>): void {
      const snapshot = ref.getSnapshot();
      watching.get(snapshot.context.spec.id)?.write(snapshot);
    },
    /** The handles are gone for good: their records too. */
    forget(ids: readonly string[]): void {
      for (const id of ids) {
        watching.get(id)?.subscription.unsubscribe();
        watching.delete(id);
        if (attached) store?.remove(HANDLES, id);
      }
    },
    /** Stops writing: what is in the store stays as it is (`shutdown({ keep: true })`). */
    detach(): void {
      attached = false;
      for (const { subscription } of watching.values()) subscription.unsubscribe();
      watching.clear();
    },
  };
}

export type HandleWriter = ReturnType<typeof createHandleWriter>;

/** The stored handles in spawn order (parents first). */
export function storedHandles(contents: StoreContents): StoredHandle[] {
  const records = [...(contents.get(HANDLES)?.values() ?? [])] as StoredHandle[];
  return records.sort((a, b) => a.order - b.order);
}

/** Every input a handle holds or held last, for the next sequence number to stay above them all. */
export function inputsOf(context: HandleContext): QueuedInput[] {
  const { queue, returned } = context.inputs;
  const lastRun = context.results.lastRun;
  return [...queue, ...returned, ...(context.current ? [context.current] : []), ...(lastRun ? [lastRun.input] : [])];
}

/** Where a restored handle's chart was: a run in flight, waiting for a slot, or at rest. */
export function restoredPhase(state: StateValue): 'working' | 'awaitingSlot' | 'rest' {
  if (typeof state === 'string') return 'rest';
  const running = (state as { running?: StateValue }).running;
  if (running === 'awaitingSlot') return 'awaitingSlot';
  return 'working';
}

/**
 * A stored context as this process restores it: under the key and depth the
 * supervisor gave it, and a lost run's times counted from now (a duration
 * measured in another process means nothing here; an approval it waited for
 * was asked of the process that died).
 */
export function restoredContext(stored: HandleContext, entry: { key: string; depth: number }): HandleContext {
  const context = { ...stored, spec: { ...stored.spec, key: entry.key, depth: entry.depth }, budget: stored.budget ?? null };
  if (context.run) {
    const now = performance.now();
    const activity = { ...context.run.activity, lastActivityAt: now, currentTool: null, lastModelCallEndedAt: null, awaitingApproval: null };
    context.run = { ...context.run, stats: { ...context.run.stats, startedAt: now }, activity };
  }
  return context;
}
