import { SimulatedClock, createActor } from 'xstate';
import type { ActorLogic, SnapshotFrom } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import type { AdjacencyMap, AdjacencyValue } from 'xstate/graph';
import type { HandleEmitted, HandleEvent, HandleInput, HandleMachine } from '../../src/machines/handle.js';
import type { QueuedInput, RunLimits } from '../../src/types.js';
import { fakeAgentRun, flushMicrotasks } from './fake-agent-run.js';
import type { FakeAgentRun } from './fake-agent-run.js';
import {
  CHILD_TIMEOUT,
  LIMIT_NAMES,
  STALE_TIMEOUT,
  describeEvent,
  initialOracleState,
  isRunSettlement,
  isSpend,
  isWorkingState,
  nodeOf,
  oracleStep,
} from '../../src/testing/handle-spec.js';
import type { ModelEvent, OracleState, RunDoneEvent, RunErrorEvent } from '../../src/testing/handle-spec.js';

/**
 * The handle chart as a test model. Paths come from the chart with
 * `xstate/graph` (a bounded traversal); each path is replayed on a real actor
 * whose run is a controllable fake, and every step is compared with the
 * oracle of `src/testing/handle-spec.ts` (public in `subagents/testing`), written from the spec. The chart only chooses
 * which paths are walked; it never says what is right.
 */

/** The token budget of a model run: small, so a spend step can pass it. */
export const MAX_RUN_TOKENS = 5;
/** Stale detection fires before the child timeout, so either can be the first timer due. */
export const CHILD_TIMEOUT_MS = 60_000;
export const STALE_TIMEOUT_MS = 10_000;

export function modelInput(delegated: boolean): HandleInput {
  return {
    id: 'h1',
    key: '0',
    name: 'h1',
    parentId: null,
    depth: 1,
    role: 'leaf',
    agentType: 'general',
    model: null,
    goal: null,
    // Replay runs on a simulated clock: time passes only when a step fires a timer (or a progress report comes later).
    limits: { childTimeoutMs: CHILD_TIMEOUT_MS, staleTimeoutMs: STALE_TIMEOUT_MS, maxRunTokens: MAX_RUN_TOKENS },
    delegated,
    setup: null,
  };
}

/**
 * The bounds of the explored space: an event that may enter `running` (a new
 * slot request) is offered only while fewer than `maxSlotRequests` were made,
 * and a send only while the queue holds fewer than `maxQueue` inputs.
 */
export interface ModelBounds {
  maxSlotRequests: number;
  maxQueue: number;
}

export const DEFAULT_BOUNDS: ModelBounds = { maxSlotRequests: 2, maxQueue: 2 };

/** The kinds of event a step delivers, for coverage and for naming a step. */
export const EVENT_KINDS = [
  'INPUT.SEND',
  'INPUT.SEND interrupt',
  'RUN.INTERRUPT',
  'RUN.CANCEL',
  'HANDLE.CLOSE',
  'HANDLE.RESUME',
  'SLOT.GRANTED',
  'SLOT.GRANTED stale',
  'RUN.PROGRESS',
  'RUN.PROGRESS waiting',
  'RUN.PROGRESS not waiting',
  'spend at limit',
  'spend over limit',
  'done',
  'error',
  'childTimeout',
  'staleTimeout',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export function kindOf(event: ModelEvent, slotSeq: number): EventKind {
  if (isSpend(event)) return event.spentTokens > MAX_RUN_TOKENS ? 'spend over limit' : 'spend at limit';
  switch (event.type) {
    case 'INPUT.SEND':
      return event.interrupt ? 'INPUT.SEND interrupt' : 'INPUT.SEND';
    case 'SLOT.GRANTED':
      return event.slotSeq === slotSeq ? 'SLOT.GRANTED' : 'SLOT.GRANTED stale';
    case 'RUN.PROGRESS':
      return event.waiting === undefined ? 'RUN.PROGRESS' : event.waiting ? 'RUN.PROGRESS waiting' : 'RUN.PROGRESS not waiting';
    case 'xstate.done.actor.agentRun':
      return 'done';
    case 'xstate.error.actor.agentRun':
      return 'error';
    case CHILD_TIMEOUT:
      return 'childTimeout';
    case STALE_TIMEOUT:
      return 'staleTimeout';
    default:
      if ((EVENT_KINDS as readonly string[]).includes(event.type)) return event.type as EventKind;
      throw new Error(`the model offers no \`${event.type}\``);
  }
}

/** The graph and the actor are typed by the chart's own events; settlements, timers and spend are synthetic. */
const asChartEvent = (event: ModelEvent): HandleEvent => event as unknown as HandleEvent;

export const runError = new Error('boom');

/**
 * The machine the traversal walks: the chart with its parent-facing actions
 * as no-ops and the budget guard reading the spend step itself, since no run
 * writes a journal in a pure traversal. A spend step sets the run's total,
 * so the guard needs no history.
 */
function traversalMachine(machine: HandleMachine) {
  return machine.provide({
    actions: { requestSlot: () => {}, releaseSlot: () => {} },
    guards: {
      overBudget: ({ event }) => {
        const model = event as ModelEvent;
        return isSpend(model) && model.spentTokens > MAX_RUN_TOKENS;
      },
    },
  });
}

type ChartSnapshot = SnapshotFrom<HandleMachine>;

/**
 * An input whose message no input of the handle has: the lowest free number,
 * so the traversal stays finite and the order of inputs stays visible.
 */
function freshInput(snapshot: ChartSnapshot, prefix: string): QueuedInput {
  const taken = new Set([...snapshot.context.inputs.queue, snapshot.context.current].map((input) => input?.message));
  let seq = 0;
  while (taken.has(`${prefix}-${seq}`)) seq += 1;
  return { seq, message: `${prefix}-${seq}` };
}

/** The events offered in a snapshot: every kind, whether the state takes it or not, within the bounds. */
export function eventsFor(snapshot: ChartSnapshot, bounds: ModelBounds): ModelEvent[] {
  const context = snapshot.context;
  const mayRequestSlot = context.slotSeq < bounds.maxSlotRequests;
  // Events that may (re)enter `running` are offered only inside the bound, or when no input could follow.
  const mayDrainQueue = mayRequestSlot || context.inputs.queue.length === 0;
  const events: ModelEvent[] = [];
  if (mayRequestSlot && context.inputs.queue.length < bounds.maxQueue) {
    events.push({ type: 'INPUT.SEND', input: freshInput(snapshot, 'input'), interrupt: false });
    events.push({ type: 'INPUT.SEND', input: freshInput(snapshot, 'urgent'), interrupt: true });
  }
  events.push({ type: 'RUN.INTERRUPT' }, { type: 'RUN.CANCEL' }, { type: 'HANDLE.CLOSE' });
  events.push({ type: 'SLOT.GRANTED', slotSeq: context.slotSeq });
  // A grant for an earlier request (released or superseded) must be ignored.
  if (context.slotSeq > 0) events.push({ type: 'SLOT.GRANTED', slotSeq: context.slotSeq - 1 });
  events.push({ type: 'RUN.PROGRESS' }, { type: 'RUN.PROGRESS', waiting: true }, { type: 'RUN.PROGRESS', waiting: false });
  events.push({ type: 'RUN.PROGRESS', spentTokens: MAX_RUN_TOKENS });
  if (mayDrainQueue) {
    events.push({ type: 'HANDLE.RESUME' });
    events.push({ type: 'RUN.PROGRESS', spentTokens: MAX_RUN_TOKENS + 1 });
    events.push({ type: 'xstate.done.actor.agentRun', output: { output: `output of ${context.current?.message ?? 'nothing'}` } });
    events.push({ type: 'xstate.error.actor.agentRun', error: runError });
    events.push({ type: CHILD_TIMEOUT }, { type: STALE_TIMEOUT });
  }
  return events;
}

/** The traversal key: what decides the events offered and where they lead (history is left out). */
function serializeChartState(snapshot: ChartSnapshot): string {
  const context = snapshot.context;
  return JSON.stringify([snapshot.value, context.inputs.queue.map((input) => input.message), context.current?.message ?? null, context.slotSeq]);
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

const TIMER_PROBES: ModelEvent[] = [{ type: CHILD_TIMEOUT }, { type: STALE_TIMEOUT }];

/**
 * Every state by its shortest path, and every edge (state, event) as that
 * path followed by the event: every transition of the bounded graph,
 * ignored events (self-loops) included; each edge into `working` is also
 * followed by each limit timer.
 */
export function buildPlan(machine: HandleMachine, delegated: boolean, bounds: ModelBounds = DEFAULT_BOUNDS): ModelPlan {
  const walked = traversalMachine(machine);
  const options = {
    input: modelInput(delegated),
    events: (snapshot: ChartSnapshot) => eventsFor(snapshot, bounds).map(asChartEvent),
    serializeState: serializeChartState,
    serializeEvent: (event: HandleEvent) => serializeEvent(event),
  };
  const shortest = getShortestPaths(walked, options);
  const adjacency: AdjacencyMap<ChartSnapshot, HandleEvent> = getAdjacencyMap(
    // Its signature has no place for the chart's emitted events.
    walked as unknown as ActorLogic<ChartSnapshot, HandleEvent, HandleInput>,
    options,
  );
  const pathTo = new Map<string, ModelEvent[]>();
  for (const path of shortest) {
    // Step 0 is the initial state under a pseudo `xstate.init` event.
    pathTo.set(serializeChartState(path.state), path.steps.slice(1).map((step) => step.event as unknown as ModelEvent));
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
  const entries = Object.entries(adjacency) as Array<[string, AdjacencyValue<ChartSnapshot, HandleEvent>]>;
  for (const [key, value] of entries) {
    const prefix = pathTo.get(key);
    if (!prefix) throw new Error(`no shortest path to ${key}`);
    insert(prefix);
    for (const transition of Object.values(value.transitions) as Array<{ event: HandleEvent; state: ChartSnapshot }>) {
      edges += 1;
      const path = [...prefix, transition.event as unknown as ModelEvent];
      insert(path);
      // The limit timers (delayed events the chart raises to itself) are state the traversal cannot see: after every step into `working`, each limit is probed.
      if (transition.state.matches({ running: 'working' })) {
        for (const timer of TIMER_PROBES) insert([...path, timer]);
      }
    }
  }
  const paths: ModelEvent[][] = [];
  const collect = (node: TrieNode, events: ModelEvent[]) => {
    if (node.children.size === 0) paths.push(events);
    for (const child of node.children.values()) collect(child.node, [...events, child.event]);
  };
  collect(root, []);
  return { paths, steps: paths.reduce((total, path) => total + path.length, 0), states: Object.keys(adjacency).length, edges };
}

/** What the comparison reads of a handle, on the chart and in the oracle alike. */
interface Observed {
  node: string;
  queue: string[];
  current: string | null;
  slotSeq: number;
  runsStarted: number;
  runsEnded: number;
  lastOutcome: string | null;
  previousStatus: string | null;
  returned: string[];
  usage: number;
}

function nodeOfValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const [[key, inner]] = Object.entries(value as Record<string, unknown>) as [[string, unknown]];
  return `${key}.${nodeOfValue(inner)}`;
}

function observeChart(snapshot: ChartSnapshot): Observed {
  const context = snapshot.context;
  return {
    node: nodeOfValue(snapshot.value),
    queue: context.inputs.queue.map((input) => input.message),
    current: context.current?.message ?? null,
    slotSeq: context.slotSeq,
    runsStarted: context.results.runsStarted,
    runsEnded: context.results.runsEnded,
    lastOutcome: context.results.lastRun?.outcome ?? null,
    previousStatus: context.inputs.previousStatus,
    returned: context.inputs.returned.map((input) => input.message),
    usage: context.results.usage.inputTokens + context.results.usage.outputTokens,
  };
}

function observeOracle(state: OracleState): Observed {
  const { status: _status, phase: _phase, spent: _spent, ...rest } = state;
  return { node: nodeOf(state), ...rest };
}

function describeEmitted(event: HandleEmitted): string {
  switch (event.type) {
    case 'status':
      return describeEvent.status(event.status);
    case 'run-start':
      return describeEvent.runStart(event.runId, event.input.message);
    case 'run-end':
      return describeEvent.runEnd(event.runId, event.outcome, event.input.message, event.output, LIMIT_NAMES.find((name) => event.error?.includes(name)) ?? null);
    case 'input-end':
      if (event.handedBack) return describeEvent.handedBack(event.input.message, event.handedBack);
      return event.run ? describeEvent.processed(event.input.message, event.run.runId, event.run.outcome) : `input-end ${JSON.stringify(event.input.message)} neither processed nor handed back`;
  }
}

/** When the limit timers are due (simulated clock), by the rules. */
interface LimitTimers {
  childDue: number;
  staleDue: number;
}

/** Time between a progress report and the one before it: under the stale limit, but two of them pass it. */
const PROGRESS_GAP_MS = 6_000;

/**
 * The limit timers by the rules: a run's child timeout runs from its start;
 * stale detection runs while it is active, from its start, its return from
 * waiting, or its last progress.
 */
function armTimers(timers: LimitTimers, before: OracleState, after: OracleState, event: ModelEvent, now: number): LimitTimers {
  if (!isWorkingState(after)) return { childDue: Infinity, staleDue: Infinity };
  if (after.runsStarted !== before.runsStarted) return { childDue: now + CHILD_TIMEOUT_MS, staleDue: now + STALE_TIMEOUT_MS };
  if (after.phase !== 'active') return { ...timers, staleDue: Infinity };
  if (before.phase !== 'active' || event.type === 'RUN.PROGRESS') return { ...timers, staleDue: now + STALE_TIMEOUT_MS };
  return timers;
}

/** One difference between the chart and the oracle, at one step of one path. */
export interface Mismatch {
  delegated: boolean;
  path: number;
  /** Index in `events` of the step after which the difference showed. */
  step: number;
  /** The oracle's state node before the step, and the kind of event the step delivered. */
  node: string;
  kind: EventKind;
  field: string;
  expected: unknown;
  actual: unknown;
  events: ModelEvent[];
}

export function describeMismatch(mismatch: Mismatch): string {
  const lines = mismatch.events.map((event, index) => `${index === mismatch.step ? '>>' : '  '} ${serializeEvent(event)}`);
  return [
    `${mismatch.field} differs after step ${mismatch.step} (${mismatch.kind} in ${mismatch.node}), delegated: ${mismatch.delegated}`,
    `  expected ${JSON.stringify(mismatch.expected)}`,
    `  actual   ${JSON.stringify(mismatch.actual)}`,
    ...lines,
  ].join('\n');
}

export interface Coverage {
  /** `${node}|${kind}` pairs delivered to a real actor. */
  pairs: Set<string>;
  nodes: Set<string>;
  lateSettlements: number;
  budgetEnds: number;
  /** Timer steps delivered by advancing the simulated clock. */
  clockTimers: number;
}

export interface CheckReport {
  plan: ModelPlan;
  mismatches: Mismatch[];
  coverage: Coverage;
}

export interface CheckOptions {
  delegated: boolean;
  bounds?: ModelBounds;
  /** Stop once this many mismatches are found (one per path at most: a path stops at its first). */
  maxMismatches?: number;
}

/** Builds the plan over `machine` and replays it, comparing every step with the oracle. */
export async function checkHandleChart(machine: HandleMachine, options: CheckOptions): Promise<CheckReport> {
  const plan = buildPlan(machine, options.delegated, options.bounds);
  const coverage: Coverage = { pairs: new Set(), nodes: new Set(), lateSettlements: 0, budgetEnds: 0, clockTimers: 0 };
  const mismatches: Mismatch[] = [];
  for (const [index, path] of plan.paths.entries()) {
    const mismatch = await replay(machine, path, index, options.delegated, coverage);
    if (mismatch) mismatches.push(mismatch);
    if (options.maxMismatches !== undefined && mismatches.length >= options.maxMismatches) break;
  }
  return { plan, mismatches, coverage };
}

function settle(run: FakeAgentRun, event: RunDoneEvent | RunErrorEvent): void {
  if (event.type === 'xstate.done.actor.agentRun') run.resolve(event.output);
  else run.reject(event.error);
}

const same = (actual: unknown, expected: unknown) => JSON.stringify(actual) === JSON.stringify(expected);

/** Replays one path on a real actor; returns the first difference from the oracle, if any. */
async function replay(machine: HandleMachine, events: ModelEvent[], path: number, delegated: boolean, coverage: Coverage): Promise<Mismatch | null> {
  const input = modelInput(delegated);
  const spec = { delegated, maxRunTokens: input.limits.maxRunTokens };
  const fake = fakeAgentRun();
  const clock = new SimulatedClock();
  const slotMessages: string[] = [];
  const emitted: string[] = [];
  const actor = createActor(
    machine.provide({
      actors: { agentRun: fake.logic },
      actions: {
        requestSlot: ({ context }) => void slotMessages.push(describeEvent.slotRequest(context.slotSeq)),
        releaseSlot: ({ context }) => void slotMessages.push(describeEvent.slotRelease(context.slotSeq)),
      },
    }),
    { input, clock },
  );
  actor.on('*', (event) => void emitted.push(describeEmitted(event)));
  let expected = initialOracleState();
  let step = -1;
  let node = nodeOf(expected);
  let kind: EventKind = 'INPUT.SEND';
  let timers: LimitTimers = { childDue: Infinity, staleDue: Infinity };
  const dueFirst = (type: typeof STALE_TIMEOUT | typeof CHILD_TIMEOUT): number | null => {
    const due = type === STALE_TIMEOUT ? timers.staleDue : timers.childDue;
    const other = type === STALE_TIMEOUT ? timers.childDue : timers.staleDue;
    return Number.isFinite(due) && due < other ? due : null;
  };
  const differ = (field: string, expectedValue: unknown, actualValue: unknown): Mismatch | null =>
    same(actualValue, expectedValue) ? null : { delegated, path, step, node, kind, field, expected: expectedValue, actual: actualValue, events };
  try {
    actor.start();
    const initial =
      differ('state', observeOracle(expected), observeChart(actor.getSnapshot())) ??
      differ('emitted events', [describeEvent.status('idle')], emitted.splice(0)) ??
      differ('slot messages', [], slotMessages.splice(0));
    if (initial) return initial;
    for (step = 0; step < events.length; step += 1) {
      const event = events[step]!;
      const before = expected;
      node = nodeOf(before);
      kind = kindOf(event, before.slotSeq);
      const runsBefore = fake.runs.length;
      const inFlight = isWorkingState(before) ? fake.runs[before.runsStarted - 1] : undefined;
      const wasAborted = inFlight?.aborted ?? false;
      let next = oracleStep(before, event, spec);

      if (isRunSettlement(event)) {
        // A run's outcome arrives only by its promise settling: the run in flight, or one aborted earlier settling late.
        const late = fake.runs.filter((candidate) => candidate !== inFlight && !candidate.settled);
        const run = inFlight ?? late.at(-1);
        // Runs aborted earlier (by an interrupting send, say) settle late first: that must not end the run in flight.
        if (inFlight && late.length > 0) {
          for (const lateRun of late) settle(lateRun, event);
          coverage.lateSettlements += late.length;
          await flushMicrotasks();
        }
        if (run && !inFlight) coverage.lateSettlements += 1;
        if (run) {
          settle(run, event);
          await flushMicrotasks();
        } else if (event.type === 'xstate.done.actor.agentRun') {
          actor.send(asChartEvent(event));
        } else {
          // No run can produce an error event here, and a bare one would be an unhandled actor error: not delivered.
          next = { state: before, emitted: [], slotMessages: [] };
        }
      } else if (event.type === 'RUN.PROGRESS') {
        // Progress comes a while after the last: long enough that a stale timer not re-armed would fire.
        if (isWorkingState(before) && clock.now() + PROGRESS_GAP_MS < Math.min(timers.childDue, timers.staleDue)) {
          clock.increment(PROGRESS_GAP_MS);
        }
        if (isSpend(event)) {
          // The run writes its spend into the journal it was given (an ended run's journal is nobody's).
          const usage = fake.runs.at(-1)?.request.journal.stats.usage;
          if (usage) {
            usage.inputTokens = 2;
            usage.outputTokens = event.spentTokens - 2;
          }
        }
        actor.send({ type: 'RUN.PROGRESS', ...(isSpend(event) ? {} : { waiting: event.waiting }) });
      } else if ((event.type === STALE_TIMEOUT || event.type === CHILD_TIMEOUT) && dueFirst(event.type) !== null) {
        // The timer is the first due by the rules: time passes on the simulated clock up to a millisecond before it, then to it,
        // and the chart's own delayed event (scheduled on that clock) must be what ends the run.
        const due = dueFirst(event.type)!;
        clock.set(due - 1);
        const early = differ('nothing fires before the limit', observeOracle(before), observeChart(actor.getSnapshot()));
        if (early) return early;
        clock.set(due);
        coverage.clockTimers += 1;
      } else {
        // A timer not pending, or not the first due, is delivered as its synthetic event.
        actor.send(asChartEvent(event));
      }
      if (next.state !== before) coverage.pairs.add(`${node}|${kind}`);
      if (isSpend(event) && isWorkingState(before) && next.state.runsEnded > before.runsEnded) coverage.budgetEnds += 1;

      const actual = actor.getSnapshot();
      const found =
        differ('actor status', 'active', actual.status) ??
        differ('state', observeOracle(next.state), observeChart(actual)) ??
        differ('emitted events', next.emitted, emitted.splice(0)) ??
        differ('slot messages', next.slotMessages, slotMessages.splice(0)) ??
        differ('runs created', next.state.runsStarted, fake.runs.length) ??
        runChecks();
      if (found) return found;
      timers = armTimers(timers, before, next.state, event, clock.now());
      expected = next.state;
      coverage.nodes.add(nodeOf(expected));

      function runChecks(): Mismatch | null {
        const after = next.state;
        if (after.runsStarted > before.runsStarted) {
          const request = fake.runs.at(-1)!.request;
          const started =
            differ('new runs', 1, fake.runs.length - runsBefore) ??
            differ('the new run gets the current input', { handleId: input.id, runId: after.runsStarted, message: after.current }, {
              handleId: request.handleId,
              runId: request.runId,
              message: request.message,
            }) ??
            differ('the new run starts with a fresh journal', 0, request.journal.stats.usage.inputTokens + request.journal.stats.usage.outputTokens);
          if (started) return started;
        }
        // The signal fires exactly when `working` is left other than by the run's own done/error.
        if (inFlight && !wasAborted) {
          const sameRunGoesOn = isWorkingState(after) && after.runsStarted === before.runsStarted;
          const aborted = differ('abort of the run in flight', !isRunSettlement(event) && !sameRunGoesOn, inFlight.aborted);
          if (aborted) return aborted;
        }
        const active = fake.active();
        return (
          differ('runs neither settled nor aborted', isWorkingState(after) ? 1 : 0, active.length) ??
          (isWorkingState(after) ? differ('the active run is the latest', after.runsStarted, active[0]!.request.runId) : null)
        );
      }
    }
    return null;
  } finally {
    actor.stop();
  }
}

/** A simulated clock that records every timer set on it and knows which are still pending. */
class RecordingClock extends SimulatedClock {
  readonly delays: number[] = [];
  readonly pending = new Set<number>();

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    this.delays.push(timeout);
    const id: number = super.setTimeout((...args: unknown[]) => {
      this.pending.delete(id);
      fn(...args);
    }, timeout);
    this.pending.add(id);
    return id;
  }

  override clearTimeout(id: number): void {
    this.pending.delete(id);
    super.clearTimeout(id);
  }
}

/** What a handle's clock saw during one run in flight, and where the handle is after a very long wait. */
export interface LimitTimerProbe {
  /** Delays of the timers set when the run started. */
  armedAtStart: number[];
  /** Delays of the timers set by progress reports (waiting, back to active, plain progress). */
  armedByProgress: number[];
  /** Timers still pending just before the long wait. */
  pendingBeforeWait: number;
  /** The state node and runs ended after the clock moved on by `LONG_WAIT_MS`. */
  nodeAfterWait: string;
  runsEndedAfterWait: number;
  /** The run was neither settled nor aborted by the wait. */
  runStillActive: boolean;
}

/** Longer than any timer can wait (the largest delay a timer takes is 2^31 - 1 ms). */
export const LONG_WAIT_MS = 2 ** 31;

/**
 * Starts one run of `machine` with `limits` on a recording simulated clock,
 * reports progress (waiting, back to active, plain), then lets a very long
 * time pass: which timers did the chart set, and did anything fire?
 */
export async function probeLimitTimers(machine: HandleMachine, limits: RunLimits): Promise<LimitTimerProbe> {
  const clock = new RecordingClock();
  const fake = fakeAgentRun();
  const actor = createActor(
    machine.provide({ actors: { agentRun: fake.logic }, actions: { requestSlot: () => {}, releaseSlot: () => {} } }),
    { input: { ...modelInput(false), limits }, clock },
  );
  try {
    actor.start();
    actor.send({ type: 'INPUT.SEND', input: { seq: 0, message: 'input-0' }, interrupt: false });
    actor.send({ type: 'SLOT.GRANTED', slotSeq: actor.getSnapshot().context.slotSeq });
    await flushMicrotasks();
    const armedAtStart = clock.delays.splice(0);
    actor.send({ type: 'RUN.PROGRESS', waiting: true });
    actor.send({ type: 'RUN.PROGRESS', waiting: false });
    actor.send({ type: 'RUN.PROGRESS' });
    const armedByProgress = clock.delays.splice(0);
    const pendingBeforeWait = clock.pending.size;
    clock.increment(LONG_WAIT_MS);
    await flushMicrotasks();
    const snapshot = actor.getSnapshot();
    return {
      armedAtStart,
      armedByProgress,
      pendingBeforeWait,
      nodeAfterWait: nodeOfValue(snapshot.value),
      runsEndedAfterWait: snapshot.context.results.runsEnded,
      runStillActive: fake.active().length === 1,
    };
  } finally {
    actor.stop();
  }
}
