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

const plan = buildPlan({ maxSlotRequests: 3, maxQueue: 2 });
console.log(
  `handle model: ${plan.states} states, ${plan.edges} edges, replaying ${plan.paths.length} paths / ${plan.steps} steps`,
);

type SlotMessage = Pick<HandleToSupervisorEvent, 'type' | 'slotSeq'>;

interface Coverage {
  pairs: Set<string>;
  statuses: Set<HandleStatus>;
  staleGrants: number;
  lateSettlements: number;
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

/** Chart-level invariants every reachable snapshot keeps, whatever the history. */
function checkInvariants(snapshot: ModelSnapshot): void {
  const context = snapshot.context;
  const running = statusOf(snapshot) === 'running';
  expect(context.current !== null, 'an input is current exactly while running').toBe(running);
  expect(context.runsStarted - context.runsEnded, 'exactly one run in flight while working, none otherwise').toBe(
    isWorking(snapshot) ? 1 : 0,
  );
  if (statusOf(snapshot) === 'closed' || statusOf(snapshot) === 'cancelled') {
    expect(context.queue, 'a closed or cancelled handle keeps no queue').toEqual([]);
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
      coverage.pairs.add(`${stateNodeOf(before)}|${kindOf(event)}`);
      if (event.type === 'SLOT.GRANTED' && event.slotSeq !== before.context.slotSeq) coverage.staleGrants += 1;

      if (isRunOutcome(event) && isWorking(before)) {
        // The run in flight settles: its promise's settlement is what produces the done/error event.
        const run = fake.runs[before.context.runsStarted - 1];
        expect(run, 'the run in flight exists').toBeDefined();
        expect(run!.aborted, 'the run in flight was not aborted').toBe(false);
        if (event.type === 'xstate.done.actor.agentRun') run!.resolve(event.output);
        else run!.reject(event.error);
        await flushMicrotasks();
      } else if (isRunOutcome(event)) {
        // No run in flight: a run aborted earlier may still settle late; that and a stray done/error event change nothing.
        const late = fake.runs.at(-1);
        if (late && !late.settled) {
          coverage.lateSettlements += 1;
          if (event.type === 'xstate.done.actor.agentRun') late.resolve(event.output);
          else late.reject(event.error);
          await flushMicrotasks();
        }
        actor.send(asChartEvent(event));
      } else {
        actor.send(event);
      }

      const actual = actor.getSnapshot();
      expect(actual.status).toBe('active');
      expect(actual.value).toEqual(after.value);
      expect(comparableContext(actual.context)).toEqual(comparableContext(after.context));
      expect(slotMessages.slice(messagesBefore)).toEqual(expectedSlotMessages(actions));
      checkInvariants(after);

      // A run starts exactly when the model's run counter moves, with the current input.
      expect(fake.runs.length).toBe(after.context.runsStarted);
      if (after.context.runsStarted > before.context.runsStarted) {
        expect(fake.runs.length).toBe(runsBefore + 1);
        expect(fake.runs.at(-1)!.request).toEqual({
          handleId: modelInput.id,
          runId: after.context.runsStarted,
          message: after.context.current?.message,
        });
      }
      // The signal fires exactly when `working` is left other than by the run's own done/error.
      if (isWorking(before)) {
        const run = fake.runs[before.context.runsStarted - 1]!;
        const sameRunGoesOn = isWorking(after) && after.context.runsStarted === before.context.runsStarted;
        expect(run.aborted, 'abort of the run that was in flight').toBe(!isRunOutcome(event) && !sameRunGoesOn);
      }
      expect(fake.active().length, 'runs neither settled nor aborted').toBe(isWorking(after) ? 1 : 0);
      if (isWorking(after)) expect(fake.active()[0]!.request.runId).toBe(after.context.runsStarted);

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
    const coverage: Coverage = { pairs: new Set(), statuses: new Set(), staleGrants: 0, lateSettlements: 0 };
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
  });

  it('covers every status with at least one shortest path', () => {
    // Guards the plan itself: if the bound were too tight to reach a status, the replay test would say so too.
    const reached = new Set<string>();
    for (const path of plan.paths) {
      let [snapshot] = initialTransition(modelMachine, modelInput);
      reached.add(statusOf(snapshot));
      for (const event of path) {
        [snapshot] = transition(modelMachine, snapshot, asChartEvent(event));
        reached.add(statusOf(snapshot));
      }
    }
    expect(reached.size).toBe(7);
  });
});
