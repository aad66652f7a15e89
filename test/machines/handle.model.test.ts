import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { handleMachine } from '../../src/machines/handle.js';
import type { HandleContext, HandleToSupervisorEvent } from '../../src/machines/handle.js';
import type { HandleStatus } from '../../src/types.js';
import { fakeAgentRun, flushMicrotasks } from '../support/fake-agent-run.js';
import {
  EVENT_KINDS,
  STATE_NODES,
  asChartEvent,
  buildPlan,
  comparableContext,
  isRunOutcome,
  kindOf,
  modelInput,
  modelMachine,
  stateNodeOf,
} from '../support/handle-model.js';
import type { ModelEvent, ModelSnapshot } from '../support/handle-model.js';

const plan = buildPlan({ maxSlotRequests: 2, maxQueue: 2 });
console.log(
  `handle model: ${plan.states} states, ${plan.edges} edges, replaying ${plan.paths.length} paths / ${plan.steps} steps`,
);

type SlotMessage = Pick<HandleToSupervisorEvent, 'type' | 'slotSeq'>;

interface Coverage {
  pairs: Set<string>;
  statuses: Set<HandleStatus>;
  staleGrants: number;
  lateSettlements: number;
  ignored: number;
}

const statusOf = (snapshot: { value: unknown }): HandleStatus => stateNodeOf(snapshot).split('.')[0] as HandleStatus;
const isWorking = (snapshot: { value: unknown }) => stateNodeOf(snapshot) === 'running.working';

/** Slot messages the pure transition says the step sends, from its executable actions. */
function expectedSlotMessages(actions: ReadonlyArray<{ type: string; info: { context: unknown } }>): SlotMessage[] {
  const messages: SlotMessage[] = [];
  for (const action of actions) {
    const context = action.info.context as HandleContext;
    if (action.type === 'requestSlot') messages.push({ type: 'SLOT.REQUEST', slotSeq: context.slotSeq });
    if (action.type === 'releaseSlot') messages.push({ type: 'SLOT.RELEASE', slotSeq: context.slotSeq });
  }
  return messages;
}

/** Deep equality, checked cheaply; `expect` only runs (for its diff) when the two differ. */
function same(actual: unknown, expected: unknown, label: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual, label).toEqual(expected);
}

/** Chart-level invariants every reachable snapshot keeps, whatever the history. */
function checkInvariants(snapshot: ModelSnapshot): void {
  const context = snapshot.context;
  const running = statusOf(snapshot) === 'running';
  same(context.current !== null, running, 'an input is current exactly while running');
  same(
    context.runsStarted - context.runsEnded,
    isWorking(snapshot) ? 1 : 0,
    'exactly one run in flight while working, none otherwise',
  );
  if (statusOf(snapshot) === 'closed' || statusOf(snapshot) === 'cancelled') {
    same(context.queue, [], 'a closed or cancelled handle keeps no queue');
  }
}

/** Replays one path on a real actor whose run is a controllable fake, checking each step against the model. */
async function replay(events: ModelEvent[], coverage: Coverage): Promise<void> {
  const fake = fakeAgentRun();
  const slotMessages: SlotMessage[] = [];
  const actor = createActor(
    handleMachine.provide({
      actors: { agentRun: fake.logic },
      actions: {
        requestSlot: ({ context }) => slotMessages.push({ type: 'SLOT.REQUEST', slotSeq: context.slotSeq }),
        releaseSlot: ({ context }) => slotMessages.push({ type: 'SLOT.RELEASE', slotSeq: context.slotSeq }),
      },
    }),
    { input: modelInput },
  );
  actor.start();
  let [expected] = initialTransition(modelMachine, modelInput);
  let step = -1;
  try {
    expect(actor.getSnapshot().value).toEqual(expected.value);
    expect(comparableContext(actor.getSnapshot().context)).toEqual(comparableContext(expected.context));
    coverage.statuses.add(statusOf(expected));
    for (step = 0; step < events.length; step += 1) {
      const event = events[step]!;
      const before = expected;
      const [after, actions] = transition(modelMachine, before, asChartEvent(event));
      const runsBefore = fake.runs.length;
      const messagesBefore = slotMessages.length;
      let delivered = true;
      if (event.type === 'SLOT.GRANTED' && event.slotSeq !== before.context.slotSeq) coverage.staleGrants += 1;

      if (isRunOutcome(event) && isWorking(before)) {
        // The run in flight settles: its promise's settlement is what produces the done/error event.
        const run = fake.runs[before.context.runsStarted - 1];
        if (!run) throw new Error('the run in flight does not exist');
        same(run.aborted, false, 'the run in flight was not aborted');
        if (event.type === 'xstate.done.actor.agentRun') run.resolve(event.output);
        else run.reject(event.error);
        await flushMicrotasks();
      } else if (isRunOutcome(event)) {
        // No run in flight. The only way a run's outcome can still arrive is a run aborted earlier settling late:
        // fromPromise drops it. (A bare `xstate.error.actor.*` event sent from outside would be an unhandled
        // error event, which XState turns into an actor error; no run can produce one outside `working`.)
        const late = fake.runs.findLast((run) => !run.settled);
        if (late) {
          coverage.lateSettlements += 1;
          if (event.type === 'xstate.done.actor.agentRun') late.resolve(event.output);
          else late.reject(event.error);
          await flushMicrotasks();
        } else if (event.type === 'xstate.done.actor.agentRun') {
          actor.send(asChartEvent(event));
        } else {
          delivered = false;
        }
      } else {
        actor.send(event);
      }

      if (delivered) coverage.pairs.add(`${stateNodeOf(before)}|${kindOf(event)}`);
      if (!before.can(asChartEvent(event))) {
        // An event the state does not take (no transition, or its guard says no) changes nothing.
        coverage.ignored += 1;
        same(after.value, before.value, 'an ignored event leaves the state value');
        same(comparableContext(after.context), comparableContext(before.context), 'an ignored event leaves the context');
      }
      if (isRunOutcome(event) && !isWorking(before)) same(after.value, before.value, 'outcomes count only while working');
      const actual = actor.getSnapshot();
      same(actual.status, 'active', 'the actor is alive');
      same(actual.value, after.value, 'state value');
      same(comparableContext(actual.context), comparableContext(after.context), 'context');
      same(slotMessages.slice(messagesBefore), expectedSlotMessages(actions), 'slot requests and releases');
      checkInvariants(after);

      // A run starts exactly when the model's run counter moves, with the current input.
      same(fake.runs.length, after.context.runsStarted, 'runs created = runs started');
      if (after.context.runsStarted > before.context.runsStarted) {
        same(fake.runs.length, runsBefore + 1, 'one new run');
        same(fake.runs.at(-1)!.request, {
          handleId: modelInput.id,
          runId: after.context.runsStarted,
          message: after.context.current?.message,
        }, 'the new run gets the current input');
      }
      // The signal fires exactly when `working` is left other than by the run's own done/error.
      if (isWorking(before)) {
        const run = fake.runs[before.context.runsStarted - 1]!;
        const sameRunGoesOn = isWorking(after) && after.context.runsStarted === before.context.runsStarted;
        same(run.aborted, !isRunOutcome(event) && !sameRunGoesOn, 'abort of the run that was in flight');
      }
      same(fake.active().length, isWorking(after) ? 1 : 0, 'runs neither settled nor aborted');
      if (isWorking(after)) same(fake.active()[0]!.request.runId, after.context.runsStarted, 'the active run is the latest');

      coverage.statuses.add(statusOf(after));
      expected = after;
    }
  } catch (error) {
    const described = events.map((event, index) => `${index === step ? '>>' : '  '} ${JSON.stringify(event)}`);
    if (error instanceof Error) error.message += `\nat step ${step} of path:\n${described.join('\n')}`;
    throw error;
  } finally {
    actor.stop();
  }
}

describe('handle statechart (model-based: xstate/graph paths replayed on a real actor)', () => {
  it(`matches the model on every step of ${plan.paths.length} paths (${plan.steps} steps, ${plan.states} states, ${plan.edges} edges)`, async () => {
    const coverage: Coverage = { pairs: new Set(), statuses: new Set(), staleGrants: 0, lateSettlements: 0, ignored: 0 };
    for (const path of plan.paths) await replay(path, coverage);

    expect([...coverage.statuses].sort()).toEqual(
      ['cancelled', 'closed', 'completed', 'error', 'idle', 'interrupted', 'running'].sort(),
    );
    const missing = STATE_NODES.flatMap((node) => EVENT_KINDS.map((kind) => `${node}|${kind}`)).filter(
      (pair) => !coverage.pairs.has(pair),
    );
    expect(missing, 'every (state, event) pair of the chart is sent on a real actor').toEqual([]);
    expect(coverage.staleGrants).toBeGreaterThan(0);
    expect(coverage.lateSettlements).toBeGreaterThan(0);
    expect(coverage.ignored).toBeGreaterThan(0);
    console.log(`handle model: ${coverage.ignored} steps sent an event the state ignores`);
  });
});
