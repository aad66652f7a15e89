import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import type { AdjacencyMap, AdjacencyValue } from 'xstate/graph';
import type { SnapshotFrom } from 'xstate';
import { handleMachine } from '../../src/machines/handle.js';
import type { HandleContext, HandleEvent, HandleInput, RunResult } from '../../src/machines/handle.js';

/**
 * The handle statechart as a test model: the machine with its parent-facing
 * slot actions as no-ops, the events offered in each state (the chart's own
 * events plus the invoked run's done/error events as synthetic ones), and the
 * bound that keeps the state space finite.
 */
export const modelMachine = handleMachine.provide({
  actions: { requestSlot: () => {}, releaseSlot: () => {} },
});

export type ModelSnapshot = SnapshotFrom<typeof modelMachine>;

export type RunDoneEvent = { type: 'xstate.done.actor.agentRun'; output: RunResult };
export type RunErrorEvent = { type: 'xstate.error.actor.agentRun'; error: unknown };
/** Every event the model sends: the chart's events and the run actor's done/error events. */
export type ModelEvent = HandleEvent | RunDoneEvent | RunErrorEvent;

export const modelInput: HandleInput = {
  id: 'h1',
  key: '0',
  name: 'h1',
  parentId: null,
  depth: 1,
  role: 'leaf',
  agentType: 'general',
  model: null,
  goal: null,
};

/** The state nodes of the chart, as `stateNodeOf` names them. */
export const STATE_NODES = [
  'idle',
  'running.awaitingSlot',
  'running.working',
  'completed',
  'error',
  'interrupted',
  'cancelled',
  'closed',
] as const;
export type StateNodeName = (typeof STATE_NODES)[number];

/** The kinds of event the coverage check counts. */
export const EVENT_KINDS = [
  'INPUT.SEND',
  'INPUT.SEND interrupt',
  'RUN.INTERRUPT',
  'RUN.CANCEL',
  'HANDLE.CLOSE',
  'HANDLE.RESUME',
  'SLOT.GRANTED',
  'RUN.USAGE',
  'done',
  'error',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export function stateNodeOf(snapshot: { value: unknown }): StateNodeName {
  const value = snapshot.value;
  if (typeof value === 'string') return value as StateNodeName;
  const running = (value as { running?: unknown }).running;
  return `running.${String(running)}` as StateNodeName;
}

export function kindOf(event: ModelEvent): EventKind {
  switch (event.type) {
    case 'INPUT.SEND':
      return event.interrupt ? 'INPUT.SEND interrupt' : 'INPUT.SEND';
    case 'xstate.done.actor.agentRun':
      return 'done';
    case 'xstate.error.actor.agentRun':
      return 'error';
    default:
      return event.type;
  }
}

export const isRunOutcome = (event: ModelEvent): event is RunDoneEvent | RunErrorEvent =>
  event.type === 'xstate.done.actor.agentRun' || event.type === 'xstate.error.actor.agentRun';

/** The graph and `transition()` are typed by the chart's own events; the run's done/error events are synthetic. */
export const asChartEvent = (event: ModelEvent): HandleEvent => event as unknown as HandleEvent;

/**
 * Bounds of the explored space. A new slot request (entering `running`) is
 * offered only while `slotSeq < maxSlotRequests`, sends only while the queue
 * holds fewer than `maxQueue` inputs, and usage only up to two reports.
 */
export interface ModelBounds {
  maxSlotRequests: number;
  maxQueue: number;
}

export const runError = new Error('boom');
export const runTimeout = { code: 'timeout', message: 'run took too long' };

/** The events offered in a snapshot: every event type of the chart, whether the state handles it or not. */
export function eventsFor(snapshot: ModelSnapshot, bounds: ModelBounds): ModelEvent[] {
  const context = snapshot.context;
  const mayRequestSlot = context.slotSeq < bounds.maxSlotRequests;
  // Events that may (re)enter `running` are offered only inside the bound, or when they cannot (no queue).
  const mayDrainQueue = mayRequestSlot || context.queue.length === 0;
  const events: ModelEvent[] = [];
  if (mayRequestSlot && context.runsStarted < bounds.maxSlotRequests && context.queue.length < bounds.maxQueue) {
    events.push({ type: 'INPUT.SEND', input: { seq: 10 + context.queue.length, message: `queued-${context.queue.length}` }, interrupt: false });
    events.push({ type: 'INPUT.SEND', input: { seq: 1, message: 'urgent' }, interrupt: true });
  }
  events.push({ type: 'RUN.INTERRUPT' }, { type: 'RUN.CANCEL' }, { type: 'HANDLE.CLOSE' });
  if (mayDrainQueue) events.push({ type: 'HANDLE.RESUME' });
  events.push({ type: 'SLOT.GRANTED', slotSeq: context.slotSeq });
  // A grant for an earlier request (already released or superseded) must be ignored.
  if (context.slotSeq > 0) events.push({ type: 'SLOT.GRANTED', slotSeq: context.slotSeq - 1 });
  if (context.usage.inputTokens < 2) events.push({ type: 'RUN.USAGE', usage: { inputTokens: 1, outputTokens: 2 } });
  if (mayDrainQueue) {
    const output = `output of ${context.current?.message ?? 'nothing'}`;
    events.push({
      type: 'xstate.done.actor.agentRun',
      output: context.usage.inputTokens < 2 ? { output, usage: { inputTokens: 1, outputTokens: 1 } } : { output },
    });
    events.push({ type: 'xstate.error.actor.agentRun', error: runError });
    events.push({ type: 'xstate.error.actor.agentRun', error: runTimeout });
  }
  return events;
}

/**
 * The traversal key: the state value and the parts of the context that decide
 * which events are offered and where they lead. History fields (last output,
 * outcome, returned inputs, counters, timestamps) are left out, so states that
 * differ only in history are explored once; replay recomputes the exact
 * expected snapshot along each path with `transition()`.
 */
export function serializeModelState(snapshot: ModelSnapshot): string {
  const context = snapshot.context;
  return JSON.stringify([
    snapshot.value,
    context.queue.map((input) => input.message),
    context.current?.message ?? null,
    context.slotSeq,
    context.usage,
    context.runsStarted,
  ]);
}

const serializeEvent = (event: ModelEvent): string =>
  JSON.stringify(event, (_key, value: unknown) => (value instanceof Error ? `Error: ${value.message}` : value));

export interface ModelPlan {
  /** Event sequences to replay: maximal ones only (a prefix of another is replayed inside it). */
  paths: ModelEvent[][];
  steps: number;
  states: number;
  edges: number;
}

interface TrieNode {
  children: Map<string, { event: ModelEvent; node: TrieNode }>;
}

/**
 * Every state by its shortest path, and every edge (state, event) as the
 * shortest path to the state followed by the event: full transition coverage
 * of the bounded graph, self-loops (events the state ignores) included.
 */
export function buildPlan(bounds: ModelBounds): ModelPlan {
  const options = {
    input: modelInput,
    events: (snapshot: ModelSnapshot) => eventsFor(snapshot, bounds).map(asChartEvent),
    serializeState: serializeModelState,
    serializeEvent: (event: HandleEvent) => serializeEvent(event),
  };
  const shortest = getShortestPaths(modelMachine, options);
  const adjacency: AdjacencyMap<ModelSnapshot, HandleEvent> = getAdjacencyMap(modelMachine, options);
  const pathTo = new Map<string, ModelEvent[]>();
  for (const path of shortest) {
    // Step 0 is the initial state under a pseudo `xstate.init` event.
    pathTo.set(serializeModelState(path.state), path.steps.slice(1).map((step) => step.event as ModelEvent));
  }
  const root: TrieNode = { children: new Map() };
  const insert = (events: ModelEvent[]) => {
    let node = root;
    for (const event of events) {
      const key = serializeEvent(event);
      let child = node.children.get(key);
      if (!child) node.children.set(key, (child = { event, node: { children: new Map() } }));
      node = child.node;
    }
  };
  let edges = 0;
  // The map is keyed by branded strings, which Object.entries cannot see through.
  const entries = Object.entries(adjacency) as Array<[string, AdjacencyValue<ModelSnapshot, HandleEvent>]>;
  for (const [key, value] of entries) {
    const prefix = pathTo.get(key);
    if (!prefix) throw new Error(`no shortest path to ${key}`);
    insert(prefix);
    const transitions = Object.values(value.transitions) as Array<{ event: HandleEvent; state: ModelSnapshot }>;
    for (const transition of transitions) {
      edges += 1;
      insert([...prefix, transition.event]);
    }
  }
  const paths: ModelEvent[][] = [];
  const collect = (node: TrieNode, events: ModelEvent[]) => {
    if (node.children.size === 0) paths.push(events);
    for (const child of node.children.values()) collect(child.node, [...events, child.event]);
  };
  collect(root, []);
  return {
    paths,
    steps: paths.reduce((total, path) => total + path.length, 0),
    states: Object.keys(adjacency).length,
    edges,
  };
}

/** The context without its timestamps: what replay compares. */
export function comparableContext(context: HandleContext): Omit<HandleContext, 'createdAt' | 'updatedAt'> {
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...rest } = context;
  return rest;
}
