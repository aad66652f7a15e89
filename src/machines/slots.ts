/**
 * Run-slot bookkeeping for the supervisor: per-parent and global caps with a
 * FIFO wait. The structure is plain data owned by the supervisor's book
 * (`SupervisorBook`): only the book mutates it, in place, so that a request or
 * a release costs O(1) however many handles exist (copying it per event would
 * make the supervisor quadratic in the number of handles).
 */

/** A slot request waiting in FIFO order. */
interface WaitingRequest {
  key: string;
  slotSeq: number;
  parent: string;
  /** Arrival order, to keep FIFO across parents under a global cap. */
  order: number;
}

interface ParentQueue {
  items: WaitingRequest[];
  head: number;
}

export interface SlotState {
  maxPerParent: number;
  /** Global cap; `null` for none. */
  maxTotal: number | null;
  runningTotal: number;
  runningByParent: Map<string, number>;
  /** Handles holding a slot: key → slotSeq. */
  holders: Record<string, number>;
  /** Handles waiting: key → slotSeq. Entries in the queues not matching here are stale. */
  waiting: Record<string, number>;
  /** How many handles wait, in all and per parent (the entries of `waiting`, counted). */
  waitingTotal: number;
  waitingByParent: Map<string, number>;
  queues: Record<string, ParentQueue>;
  /** Parents with at least one queued entry, in no particular order. */
  parentsWaiting: string[];
  nextOrder: number;
}

/** The key under which children of the root agent are counted. */
export const ROOT_PARENT = '@root';

/** The key under which the slots of detached children are counted: no parent's cap applies, the global one does. */
export const DETACHED = '@detached';

export function createSlotState(maxPerParent: number, maxTotal: number | null): SlotState {
  return {
    maxPerParent,
    maxTotal,
    runningTotal: 0,
    // No prototypes: handle ids are arbitrary keys (`constructor` included).
    runningByParent: new Map(),
    holders: Object.create(null) as Record<string, number>,
    waiting: Object.create(null) as Record<string, number>,
    waitingTotal: 0,
    waitingByParent: new Map(),
    queues: Object.create(null) as Record<string, ParentQueue>,
    parentsWaiting: [],
    nextOrder: 0,
  };
}

/** A slot handed to a handle: the supervisor tells it with SLOT.GRANTED. */
export interface Grant {
  key: string;
  slotSeq: number;
}

function hasRoom(state: SlotState, parent: string): boolean {
  if (state.maxTotal !== null && state.runningTotal >= state.maxTotal) return false;
  return (state.runningByParent.get(parent) ?? 0) < state.maxPerParent;
}

function take(state: SlotState, key: string, slotSeq: number, parent: string): Grant {
  state.holders[key] = slotSeq;
  state.runningTotal += 1;
  addCount(state.runningByParent, parent, 1);
  return { key, slotSeq };
}

/** Changes a parent's count; a parent with none is not in the map. */
function addCount(counts: Map<string, number>, parent: string, delta: number): void {
  const count = (counts.get(parent) ?? 0) + delta;
  if (count > 0) counts.set(parent, count);
  else counts.delete(parent);
}

function startWaiting(state: SlotState, key: string, slotSeq: number, parent: string): void {
  if (state.waiting[key] === undefined) {
    state.waitingTotal += 1;
    addCount(state.waitingByParent, parent, 1);
  }
  state.waiting[key] = slotSeq;
}

function stopWaiting(state: SlotState, key: string, parent: string): void {
  delete state.waiting[key];
  state.waitingTotal -= 1;
  addCount(state.waitingByParent, parent, -1);
}

/** Drops stale entries off the front of a parent's queue; returns its live head. */
function liveHead(state: SlotState, queue: ParentQueue): WaitingRequest | undefined {
  while (queue.head < queue.items.length) {
    const item = queue.items[queue.head];
    if (item && state.waiting[item.key] === item.slotSeq) return item;
    queue.head += 1;
  }
  return undefined;
}

function compact(state: SlotState, parent: string, queue: ParentQueue): void {
  if (queue.head >= queue.items.length) {
    delete state.queues[parent];
    const index = state.parentsWaiting.indexOf(parent);
    if (index !== -1) state.parentsWaiting.splice(index, 1);
  } else if (queue.head > 1024 && queue.head * 2 > queue.items.length) {
    queue.items = queue.items.slice(queue.head);
    queue.head = 0;
  }
}

/** Hands free slots to waiting requests, oldest first, as far as the caps allow. */
function grantWaiting(state: SlotState, grants: Grant[]): void {
  for (;;) {
    let best: { parent: string; queue: ParentQueue; item: WaitingRequest } | undefined;
    for (const parent of [...state.parentsWaiting]) {
      const queue = state.queues[parent];
      if (!queue) continue;
      const item = liveHead(state, queue);
      if (!item) {
        compact(state, parent, queue);
        continue;
      }
      if (!hasRoom(state, parent)) continue;
      if (!best || item.order < best.item.order) best = { parent, queue, item };
    }
    if (!best) return;
    best.queue.head += 1;
    stopWaiting(state, best.item.key, best.parent);
    grants.push(take(state, best.item.key, best.item.slotSeq, best.parent));
    compact(state, best.parent, best.queue);
  }
}

/** A handle asks for a slot: granted at once if there is room and nobody waits before it, else queued. */
export function requestSlot(state: SlotState, key: string, slotSeq: number, parent: string): Grant[] {
  const grants: Grant[] = [];
  const queue = state.queues[parent];
  const othersWaiting = queue !== undefined && liveHead(state, queue) !== undefined;
  if (!othersWaiting && state.maxTotal === null && hasRoom(state, parent)) {
    grants.push(take(state, key, slotSeq, parent));
    return grants;
  }
  startWaiting(state, key, slotSeq, parent);
  const entry: WaitingRequest = { key, slotSeq, parent, order: state.nextOrder++ };
  if (queue) queue.items.push(entry);
  else {
    state.queues[parent] = { items: [entry], head: 0 };
    state.parentsWaiting.push(parent);
  }
  grantWaiting(state, grants);
  return grants;
}

/** A handle gives up its slot or its place in the queue; freed room goes to the next in line. */
export function releaseSlot(state: SlotState, key: string, slotSeq: number, parent: string): Grant[] {
  const grants: Grant[] = [];
  if (state.holders[key] === slotSeq) {
    delete state.holders[key];
    state.runningTotal -= 1;
    addCount(state.runningByParent, parent, -1);
    grantWaiting(state, grants);
  } else if (state.waiting[key] === slotSeq) {
    stopWaiting(state, key, parent);
  }
  return grants;
}

/**
 * A held slot stops counting under one parent and counts under another (a
 * detached child's, see `SupervisorBook.detach`): the global count is
 * unchanged, and the room it leaves goes to the next in line.
 */
export function moveSlot(state: SlotState, key: string, slotSeq: number, from: string, to: string): Grant[] {
  const grants: Grant[] = [];
  if (state.holders[key] !== slotSeq || from === to) return grants;
  addCount(state.runningByParent, from, -1);
  addCount(state.runningByParent, to, 1);
  grantWaiting(state, grants);
  return grants;
}

/** Applies new caps; more room may admit waiting requests at once. */
export function setSlotLimits(state: SlotState, maxPerParent: number, maxTotal: number | null): Grant[] {
  state.maxPerParent = maxPerParent;
  state.maxTotal = maxTotal;
  const grants: Grant[] = [];
  grantWaiting(state, grants);
  return grants;
}
