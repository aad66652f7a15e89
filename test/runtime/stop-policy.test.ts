import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime } from '../../src/agent/create-runtime.js';
import { defineAgentType } from '../../src/delegation/agent-types.js';
import { BadArgumentError } from '../../src/errors.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { describeConversation, reply } from '../../src/testing/index.js';
import type { RecordedRequest } from '../../src/testing/index.js';
import { startHeldModel } from '../../src/testing/held-model.js';
import type { HeldModel, HeldRequest } from '../../src/testing/held-model.js';
import { closeAfterEach } from '../support/cleanup.js';

let held: HeldModel | undefined;
let runtime: Runtime | undefined;
closeAfterEach(() => [runtime, held && { close: () => (held!.release(), held!.server.close()) }]);

/** Generous: the machine may be loaded; a passing check returns as soon as it holds. */
const BUDGET_MS = 20_000;

/** The marker (`job-…`) of the agent that sent a request: in its system prompt, or `root` for the root agent. */
const markerOf = (request: RecordedRequest) => /job-\w+/.exec(describeConversation(request).systemText)?.[0] ?? 'root';
const conversationText = (entry: HeldRequest) => JSON.stringify(entry.request.body.messages);

/** A runtime over a model that holds every request until the test answers it; every runtime event wakes the checks. */
async function setup(options: { agentTypes?: Parameters<typeof createRuntime>[0]['agentTypes'] } = {}) {
  const model = await startHeldModel();
  held = model;
  const client = new OpenAI({ baseURL: model.server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
  const created = createRuntime({ client, model: 'fake-model', maxSpawnDepth: 2, maxConcurrentChildren: 3, ...options });
  runtime = created;
  const events: RuntimeEvent[] = [];
  created.subscribe((event) => {
    events.push(event);
    model.wake();
  });
  /** The open request of an agent, once it has arrived. */
  const request = async (marker: string): Promise<HeldRequest> => {
    const find = () => model.open().find((entry) => markerOf(entry.request) === marker);
    expect(await model.until(() => find() !== undefined, BUDGET_MS), `a request of ${marker} arrives`).toBe(true);
    return find()!;
  };
  const until = async (condition: () => boolean, what: string) => expect(await model.until(condition, BUDGET_MS), what).toBe(true);
  /** The run-end events of a handle: exactly one per run, however it ends. */
  const runEnds = (id: string) => events.filter((event) => event.type === 'run-end' && event.handleId === id);
  return { model, runtime: created, events, request, until, runEnds };
}

type Stop = 'interrupt' | 'cancel' | 'close';

describe('onParentStop', () => {
  it.each<Stop>(['interrupt', 'cancel', 'close'])(
    'a detached child goes on through its parent’s %s, frees its slot and delivers its result; a cascading one stops',
    async (stop) => {
      const { model, runtime, events, request, until, runEnds } = await setup();
      const parent = runtime.spawn({ message: 'job-P work' });
      const waitedFor = runtime.spawn({ parentId: parent.id, message: 'job-A1 work', onParentStop: 'detach' });
      const unwatched = runtime.spawn({ parentId: parent.id, message: 'job-A2 work', onParentStop: 'detach' });
      const cascading = runtime.spawn({ parentId: parent.id, message: 'job-C work' });
      expect(runtime.get(waitedFor.id).onParentStop).toBe('detach');
      expect(runtime.get(cascading.id).onParentStop).toBe('cascade');
      const [parentRequest, a1, a2, c] = await Promise.all(['job-P', 'job-A1', 'job-A2', 'job-C'].map(request));

      const result = runtime[stop](parent.id);
      if (stop !== 'interrupt') {
        // Only the handles the stop reached are reported with it.
        expect((result as { descendants: Array<{ id: string }> }).descendants.map((descendant) => descendant.id)).toEqual([cascading.id]);
      }
      await until(() => parentRequest!.request.aborted && c!.request.aborted, 'the parent’s and the cascading child’s requests are aborted');
      expect(runtime.get(cascading.id).status).toBe(stop === 'close' ? 'closed' : stop === 'cancel' ? 'cancelled' : 'interrupted');
      expect(runtime.get(waitedFor.id).status).toBe('running');
      expect(runtime.get(unwatched.id).status).toBe('running');

      // The detached children no longer count under their parent: a new child starts under a cap of 1 while they run.
      runtime.setLimits({ maxConcurrentChildren: 1 });
      const next = runtime.spawn({ parentId: parent.id, message: 'job-B work' });
      await request('job-B');
      expect(runtime.get(next.id).waitingForSlot).toBe(false);
      expect(runtime.list({ status: 'running' }).map((handle) => handle.id).sort()).toEqual([waitedFor.id, unwatched.id, next.id].sort());

      // Whoever waits gets the result.
      const waited = runtime.wait(waitedFor.id, { timeoutMs: 60_000 });
      a1!.answer(reply.text('result of A1'));
      expect((await waited).completed.map((handle) => handle.lastOutput)).toEqual(['result of A1']);
      // Nobody waits: it goes to the nearest open agent's inbox (the parent, or above a closed one the root agent).
      a2!.answer(reply.text('result of A2'));
      await until(() => runtime.get(unwatched.id).status === 'completed', 'the unwatched detached child completes');
      expect(a1!.request.aborted || a2!.request.aborted).toBe(false);
      let reader: HeldRequest;
      let answered: Promise<unknown> | null = null;
      if (stop === 'close') {
        answered = runtime.runAgent('Anything new?');
        reader = await request('root');
      } else {
        runtime.send(parent.id, 'go on');
        reader = await request('job-P');
      }
      expect(conversationText(reader)).toContain(`[detached subagent ${unwatched.id} finished]`);
      expect(conversationText(reader)).toContain('result of A2');
      expect(conversationText(reader)).not.toContain('result of A1');
      reader.answer(reply.text('noted'));
      await answered;

      // Shutdown stops the new child's run; then every run has ended exactly once.
      await runtime.shutdown();
      await Promise.resolve();
      for (const id of [waitedFor.id, unwatched.id, cascading.id, next.id]) expect(runEnds(id), `run-end events of ${id}`).toHaveLength(1);
      expect(runEnds(waitedFor.id)[0]).toMatchObject({ outcome: 'completed' });
      expect(runEnds(cascading.id)[0]).toMatchObject({ outcome: stop === 'interrupt' ? 'interrupted' : 'cancelled' });
      expect(runEnds(next.id)[0]).toMatchObject({ outcome: 'cancelled' });
      expect(runEnds(parent.id)).toHaveLength(stop === 'close' ? 1 : 2);
      const detaches = events.filter((event) => event.type === 'handle-detach');
      expect(detaches.map((event) => [event.handleId, event.type === 'handle-detach' && event.parentStop]).sort()).toEqual(
        [[waitedFor.id, stop], [unwatched.id, stop]].sort(),
      );
      await until(() => model.server.requests.filter((entry) => entry.aborted).length >= 3, 'the new child’s request is aborted at shutdown');
      expect(model.server.requests.filter((entry) => entry.aborted).map(markerOf).sort()).toEqual(['job-B', 'job-C', 'job-P']);
    },
    60_000,
  );

  it('shutdown stops detached and cascading children alike, each with exactly one run-end', async () => {
    const { runtime, request, runEnds } = await setup();
    const parent = runtime.spawn({ message: 'job-P work' });
    const detached = runtime.spawn({ parentId: parent.id, message: 'job-A work', onParentStop: 'detach' });
    const cascading = runtime.spawn({ parentId: parent.id, message: 'job-C work' });
    const requests = await Promise.all(['job-P', 'job-A', 'job-C'].map(request));
    const { unprocessed } = await runtime.shutdown();
    expect(unprocessed).toEqual([]);
    await Promise.resolve();
    for (const id of [parent.id, detached.id, cascading.id]) {
      expect(runEnds(id), `run-end events of ${id}`).toHaveLength(1);
      expect(runEnds(id)[0]).toMatchObject({ outcome: 'cancelled' });
    }
    await held!.until(() => requests.every((entry) => entry.request.aborted), BUDGET_MS);
    expect(requests.map((entry) => entry.request.aborted)).toEqual([true, true, true]);
  }, 60_000);

  it('a delegate_task child of a detaching agent type goes on when its parent is interrupted, and its result reaches the parent’s inbox', async () => {
    const keeper = defineAgentType({
      name: 'keeper',
      description: 'Long work that outlives an interrupt of its parent.',
      maxIterations: 5,
      promptFocus: 'Finish the work.',
      onParentStop: 'detach',
    });
    const { runtime, events, request, until, runEnds } = await setup({ agentTypes: [keeper] });
    const parent = runtime.spawn({ message: 'job-P orchestrate', role: 'orchestrator' });
    (await request('job-P')).answer(reply.toolCall('delegate_task', { goal: 'job-D long work', agent_type: 'keeper' }));
    const child = await request('job-D');
    const [childId] = runtime.list({ parentId: parent.id }).map((handle) => handle.id);
    expect(runtime.get(childId!).onParentStop).toBe('detach');

    runtime.interrupt(parent.id);
    expect(runtime.get(parent.id).status).toBe('interrupted');
    expect(runtime.get(childId!).status).toBe('running');
    child.answer(reply.text('result of D'));
    await until(() => runtime.get(childId!).status === 'completed', 'the detached child completes');
    expect(child.request.aborted).toBe(false);
    expect(runEnds(childId!)).toHaveLength(1);
    // Its caller (the interrupted tool call) no longer waits: the combined result goes to the parent's inbox when the delegation ends.
    await until(() => events.some((event) => event.type === 'delegation-end'), 'the delegation ends');

    runtime.send(parent.id, 'go on');
    const reader = await request('job-P');
    expect(conversationText(reader)).toContain('[background delegation');
    expect(conversationText(reader)).toContain('result of D');
    reader.answer(reply.text('noted'));
  }, 60_000);

  it('runtime.delegate with detach: whoever awaits the result gets it after the parent is interrupted', async () => {
    const { runtime, request } = await setup();
    const parent = runtime.spawn({ message: 'job-P work' });
    await request('job-P');
    const delegation = runtime.delegate({ goal: 'job-E work', parentId: parent.id, onParentStop: 'detach' });
    const child = await request('job-E');
    runtime.interrupt(parent.id);
    child.answer(reply.text('result of E'));
    const outcome = await delegation.result;
    expect(outcome.results.map((result) => [result.status, result.summary])).toEqual([['completed', 'result of E']]);
    expect(child.request.aborted).toBe(false);
  }, 60_000);

  it('refuses a policy that is neither cascade nor detach, naming the field', async () => {
    const { runtime } = await setup();
    const refused = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        return error;
      }
      return null;
    };
    const spawnError = refused(() => runtime.spawn({ onParentStop: 'sometimes' as never }));
    expect(spawnError).toBeInstanceOf(BadArgumentError);
    expect(spawnError).toMatchObject({ argument: 'onParentStop', received: 'sometimes' });
    expect(refused(() => runtime.delegate({ goal: 'x', onParentStop: 'never' as never }))).toMatchObject({ argument: 'onParentStop', received: 'never' });
    expect(
      refused(() => defineAgentType({ name: 'odd', description: 'd', maxIterations: 1, promptFocus: 'p', onParentStop: true as never })),
    ).toMatchObject({ argument: 'odd.onParentStop', received: true });
    expect(runtime.list()).toEqual([]);
  });
});
