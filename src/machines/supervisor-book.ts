/**
 * The supervisor's bookkeeping: the tree of handles and the run slots, in one
 * object with a small plain-JSON projection. It is the one mutable thing in
 * the supervisor's context and only the supervisor machine's actions call its
 * mutating methods; everyone else reads. Every operation costs O(1) per
 * handle it touches, however many handles exist: maps keyed by id and by key,
 * children in insertion-ordered sets, counters instead of scans.
 */
import { DETACHED, ROOT_PARENT, createSlotState, moveSlot, releaseSlot, requestSlot, setSlotLimits } from './slots.js';
import type { Grant, SlotState } from './slots.js';
import type { OnParentStop } from '../types.js';

export type { Grant } from './slots.js';

/** Where a handle sits in the tree. */
export interface TreeEntry {
  /** The handle's id in the supervisor's actor system (integer-like, in spawn order). */
  readonly key: string;
  readonly parentId: string | null;
  /** Children of the root agent are at depth 1. */
  readonly depth: number;
}

interface Node extends TreeEntry {
  /** Child ids in spawn order; `null` while there are none (most handles are leaves). */
  children: Set<string> | null;
  /** A stop of its parent does not reach it (nor, through it, its descendants). */
  detaches: boolean;
}

/** Who a stop of a handle reaches. */
export interface StopReach {
  /** The handle and the descendants the stop cascades to, deepest first. */
  stopped: string[];
  /** The detaching children met on the way: each goes on, with its own descendants. */
  detached: string[];
}

/** A removed handle: what the supervisor needs to stop its actor. */
export interface RemovedHandle {
  id: string;
  key: string;
}

/** Running and waiting handles under one parent. */
export interface ParentLoad {
  running: number;
  waiting: number;
}

/**
 * What the book shows of itself (`JSON.stringify`, the inspector): counts,
 * never the handles one by one, so its size does not grow with the tree.
 */
export interface SupervisorBookJSON {
  handles: number;
  /** Handles holding a run slot. */
  running: number;
  /** Handles waiting for a run slot. */
  waiting: number;
  /** Handles spawned so far, forgotten ones included (the next key). */
  spawned: number;
  maxConcurrentChildren: number;
  maxConcurrentRuns: number | null;
  /** Parents with running children, and with waiting children. */
  parentsRunning: number;
  parentsWaiting: number;
  /** Running and waiting children per parent id (`@root` for the root agent): at most {@link MAX_PARENTS_SHOWN} parents. */
  byParent: Record<string, ParentLoad>;
}

/** Parents listed in {@link SupervisorBookJSON.byParent}. */
export const MAX_PARENTS_SHOWN = 20;

/** The key under which a parent's running children are counted: the root agent (`null`) is `@root`. */
const parentKey = (parentId: string | null) => parentId ?? ROOT_PARENT;

/**
 * The tree (id → key, parent, depth, children) and the slot queues of one
 * supervisor.
 *
 * @example
 * ```ts
 * const book = new SupervisorBook({ maxConcurrentChildren: 3, maxConcurrentRuns: null });
 * book.admit('a', null); // { key: '0', parentId: null, depth: 1 }
 * book.requestSlot('0', 1, null); // [{ key: '0', slotSeq: 1 }]
 * JSON.stringify(book); // {"handles":1,"running":1,"waiting":0,…}
 * ```
 */
export class SupervisorBook {
  readonly #nodes = new Map<string, Node>();
  readonly #idsByKey = new Map<string, string>();
  readonly #slots: SlotState;
  /** Slots held by detached children (key → slotSeq): counted under {@link DETACHED}, not under their parents. */
  readonly #detachedSlots = new Map<string, number>();
  #nextKey = 0;

  constructor(limits: { maxConcurrentChildren: number; maxConcurrentRuns: number | null }) {
    this.#slots = createSlotState(limits.maxConcurrentChildren, limits.maxConcurrentRuns);
  }

  /** Handles in the tree. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Handles holding a run slot. */
  get running(): number {
    return this.#slots.runningTotal;
  }

  /** Handles waiting for a run slot. */
  get waiting(): number {
    return this.#slots.waitingTotal;
  }

  has(id: string): boolean {
    return this.#nodes.has(id);
  }

  /** A handle's place in the tree (a copy), or `undefined` if it is not in it. */
  entry(id: string): TreeEntry | undefined {
    const node = this.#nodes.get(id);
    return node && { key: node.key, parentId: node.parentId, depth: node.depth };
  }

  /** The key of a handle's actor, if it is in the tree. */
  keyOf(id: string): string | undefined {
    return this.#nodes.get(id)?.key;
  }

  /** Depth of a parent: the root agent (`null`) is 0; `undefined` for an id not in the tree. */
  depthOf(parentId: string | null): number | undefined {
    return parentId === null ? 0 : this.#nodes.get(parentId)?.depth;
  }

  /** Ids of every handle in the tree, in spawn order. */
  ids(): IterableIterator<string> {
    return this.#nodes.keys();
  }

  /** A handle's children, in spawn order. */
  childrenOf(id: string): string[] {
    return [...(this.#nodes.get(id)?.children ?? [])];
  }

  /** The id of the handle whose actor has this key. */
  idOfKey(key: string): string | undefined {
    return this.#idsByKey.get(key);
  }

  /** The slot sequence a handle holds or waits with, if any. */
  slotOf(key: string): { slotSeq: number; holds: boolean } | undefined {
    const held = this.#slots.holders[key];
    if (held !== undefined) return { slotSeq: held, holds: true };
    const waiting = this.#slots.waiting[key];
    return waiting === undefined ? undefined : { slotSeq: waiting, holds: false };
  }

  /** The handle and every descendant, deepest first, each parent's children in spawn order. */
  subtreeOf(id: string): string[] {
    return this.#walk(id, () => false);
  }

  /**
   * Who a stop of this handle reaches: it, and its descendants down to the
   * children that detach (`onParentStop: 'detach'`), which the stop passes by
   * with everything under them.
   */
  stopReach(id: string): StopReach {
    const detached: string[] = [];
    const stopped = this.#walk(id, (child) => {
      if (!this.#nodes.get(child)?.detaches) return false;
      detached.push(child);
      return true;
    });
    return { stopped, detached };
  }

  /** Post-order from `id`, deepest first, not entering the children `skip` says to pass by. */
  #walk(id: string, skip: (child: string) => boolean): string[] {
    const ordered: string[] = [];
    if (!this.#nodes.has(id)) return ordered;
    // Iterative post-order: a deep tree cannot overflow the stack.
    const stack: Array<{ id: string; children: Iterator<string> | null }> = [{ id, children: this.#childrenOf(id) }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top.children?.next();
      if (next && !next.done) {
        if (!skip(next.value)) stack.push({ id: next.value, children: this.#childrenOf(next.value) });
      } else {
        stack.pop();
        ordered.push(top.id);
      }
    }
    return ordered;
  }

  #childrenOf(id: string): Iterator<string> | null {
    return this.#nodes.get(id)?.children?.values() ?? null;
  }

  /**
   * Puts a handle in the tree under its parent, with the next key and its
   * depth. The caller (the supervisor's guard) has checked it may.
   */
  admit(id: string, parentId: string | null, onParentStop: OnParentStop = 'cascade'): TreeEntry {
    const key = String(this.#nextKey);
    this.#nextKey += 1;
    const node: Node = { key, parentId, depth: (this.depthOf(parentId) ?? 0) + 1, children: null, detaches: onParentStop === 'detach' };
    this.#nodes.set(id, node);
    this.#idsByKey.set(key, id);
    if (parentId !== null) {
      const parent = this.#nodes.get(parentId);
      if (parent) (parent.children ??= new Set()).add(id);
    }
    return { key, parentId, depth: node.depth };
  }

  /** Takes a handle and its descendants out of the tree; returns them deepest first. */
  removeSubtree(id: string): RemovedHandle[] {
    const root = this.#nodes.get(id);
    if (!root) return [];
    const removed: RemovedHandle[] = [];
    for (const member of this.subtreeOf(id)) {
      const node = this.#nodes.get(member);
      if (!node) continue;
      this.#nodes.delete(member);
      this.#idsByKey.delete(node.key);
      this.#detachedSlots.delete(node.key);
      removed.push({ id: member, key: node.key });
    }
    if (root.parentId !== null) this.#nodes.get(root.parentId)?.children?.delete(id);
    return removed;
  }

  /** A handle asks for a run slot: granted at once if there is room and nobody waits before it, else queued (FIFO). */
  requestSlot(key: string, slotSeq: number, parentId: string | null): Grant[] {
    return requestSlot(this.#slots, key, slotSeq, parentKey(parentId));
  }

  /** A handle gives up its slot or its place in the queue; freed room goes to the next in line. */
  releaseSlot(key: string, slotSeq: number, parentId: string | null): Grant[] {
    const detached = this.#detachedSlots.get(key) === slotSeq;
    if (detached) this.#detachedSlots.delete(key);
    return releaseSlot(this.#slots, key, slotSeq, detached ? DETACHED : parentKey(parentId));
  }

  /**
   * A child goes on while its parent stops: the slot it holds stops counting
   * under its parent (whose cap has room again) and counts under
   * {@link DETACHED} until it is released; its next run asks its parent's
   * cap again. A child waiting for a slot keeps its place in its parent's
   * queue. Returns the slots the freed room grants.
   */
  detach(id: string): Grant[] {
    const node = this.#nodes.get(id);
    const held = node ? this.#slots.holders[node.key] : undefined;
    if (!node || held === undefined || this.#detachedSlots.get(node.key) === held) return [];
    this.#detachedSlots.set(node.key, held);
    return moveSlot(this.#slots, node.key, held, parentKey(node.parentId), DETACHED);
  }

  /** Whatever slot the handle of this key holds or waits for is released (its actor failed). */
  releaseAnySlot(key: string): Grant[] {
    const slot = this.slotOf(key);
    const id = this.#idsByKey.get(key);
    const node = id === undefined ? undefined : this.#nodes.get(id);
    if (!slot || !node) return [];
    return this.releaseSlot(key, slot.slotSeq, node.parentId);
  }

  /** Applies new caps; more room may admit waiting requests at once. */
  setLimits(maxConcurrentChildren: number, maxConcurrentRuns: number | null): Grant[] {
    return setSlotLimits(this.#slots, maxConcurrentChildren, maxConcurrentRuns);
  }

  /** Running and waiting handles under a parent (`null`: the root agent). */
  loadOf(parentId: string | null): ParentLoad {
    const parent = parentKey(parentId);
    return { running: this.#slots.runningByParent.get(parent) ?? 0, waiting: this.#slots.waitingByParent.get(parent) ?? 0 };
  }

  /** The plain-JSON projection: counts only, at most {@link MAX_PARENTS_SHOWN} parents. */
  toJSON(): SupervisorBookJSON {
    const slots = this.#slots;
    // A plain object: parent ids are handle ids, never `__proto__` (ids are letters, digits, `_`, `-`, `.`), but be safe.
    const byParent = Object.create(null) as Record<string, ParentLoad>;
    let shown = 0;
    // Map iterators are lazy: this reads at most a few dozen entries however many parents there are.
    for (const counts of [slots.runningByParent, slots.waitingByParent]) {
      for (const parent of counts.keys()) {
        if (shown === MAX_PARENTS_SHOWN) break;
        if (parent in byParent) continue;
        byParent[parent] = { running: slots.runningByParent.get(parent) ?? 0, waiting: slots.waitingByParent.get(parent) ?? 0 };
        shown += 1;
      }
    }
    return {
      handles: this.#nodes.size,
      running: slots.runningTotal,
      waiting: slots.waitingTotal,
      spawned: this.#nextKey,
      maxConcurrentChildren: slots.maxPerParent,
      maxConcurrentRuns: slots.maxTotal,
      parentsRunning: slots.runningByParent.size,
      parentsWaiting: slots.waitingByParent.size,
      byParent,
    };
  }
}
