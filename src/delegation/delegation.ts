import { nanoid } from 'nanoid';
import { BackgroundLimitError } from '../errors.js';
import type { AgentType } from './agent-types.js';
import type { WorktreeReport } from '../types.js';
import type {
  Delegation,
  DelegateRequest,
  DelegateTask,
  DelegationOutcome,
  DelegationResult,
  ModelPrices,
} from './delegation-types.js';
import { BackgroundInboxes, OUTBOX, ROOT_AGENT, backgroundResultMessage } from './inbox.js';
import type { Delivery } from './inbox.js';
import type { Store, StoreContents } from '../store/store-types.js';
import { DELEGATIONS, DELEGATION_TASKS, endOfRestoredTask, storedDelegations, taskKey } from './durable-delegations.js';
import type { StoredDelegation, TaskEnd } from './durable-delegations.js';
import type { HandleApi, HandleSpawn } from '../runtime/runtime-types.js';
import type { ChildOrigin } from './prepare.js';
import { knownAgentTypes } from './task-schema.js';
import { checkDelegateRequest } from './validate-delegation.js';
import { argumentsDigest } from './idempotency.js';
import type { IdempotencyKeys } from './idempotency.js';
import { answerInstructions, checkedResult, effectiveChecks } from './checked-result.js';
import type { ResultChecks } from './checked-result.js';
import { endAfterRetry } from './answer-retry.js';
import { deliverDetachedResults, nearestOpenAgent } from './detached-results.js';
import { taskResultOf } from './task-result.js';

/** Tasks spawned in one go; a bigger batch yields to the event loop between slices. */
export const SPAWN_SLICE = 200;

const MAX_REMEMBERED_DELEGATIONS = 1000;


export interface DelegatorDeps {
  core: HandleApi;
  /** A task's spawn, setup included; throws a typed error for a task that cannot be spawned. */
  prepare(task: DelegateTask, origin: ChildOrigin): HandleSpawn;
  /** The user's agent types, beside the built-in ones. */
  agentTypes(): readonly AgentType[];
  maxBackground(): number;
  /** The prices that apply on a provider (its own over the runtime's); `null`: no provider (a custom run). */
  pricesOf(provider: string | null): ModelPrices | undefined;
  inboxes: BackgroundInboxes;
  /** Judges a child's git worktree once its task ended (removed if unchanged, kept otherwise); never rejects. */
  settleWorktree(handleId: string): Promise<WorktreeReport | null>;
  /** Where delegations are kept for a restore; `null`: nowhere. */
  store: Store | null;
  /** The idempotency keys of `spawn` and `delegate`. */
  keys: IdempotencyKeys;
}

export { costOf } from './task-result.js';

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Delegation: spawns one child per task, gives it its goal, and reports what
 * the chart did with that goal (its `input-end`): nothing is made up beside it.
 */
export function createDelegator(deps: DelegatorDeps) {
  const { core } = deps;
  const delegations = new Map<string, Promise<DelegationOutcome>>();
  let activeBackground = 0;
  deliverDetachedResults(core, deps.inboxes);

  /** Each delegated task's result by its handle, for `taskResult(id)`; bounded like the delegations. */
  const taskResults = new Map<string, Promise<DelegationResult>>();
  const rememberTask = (handleId: string, result: Promise<DelegationResult>) => {
    taskResults.set(handleId, result);
    if (taskResults.size > MAX_REMEMBERED_DELEGATIONS * 10) taskResults.delete(taskResults.keys().next().value!);
  };

  /** Keeps the most recent delegations for `delegation(id)`: a long-lived runtime must not keep them all. */
  const remember = (id: string, outcome: Promise<DelegationOutcome>) => {
    delegations.set(id, outcome);
    if (delegations.size > MAX_REMEMBERED_DELEGATIONS) delegations.delete(delegations.keys().next().value!);
  };

  const resultOf = (taskIndex: number, task: Pick<DelegateTask, 'goal'>, handleId: string, end: TaskEnd, worktree: WorktreeReport | null) =>
    taskResultOf(core, (provider) => deps.pricesOf(provider), { taskIndex, goal: task.goal, handleId, end, worktree });

  /** The budget an agent type gives its handles, if any. */
  const agentTypeBudget = (name: string | undefined) => knownAgentTypes(deps.agentTypes()).find((type) => type.name === (name ?? 'general'))?.budget;

  function delegate(request: DelegateRequest): Delegation {
    const known = knownAgentTypes(deps.agentTypes());
    const { tasks, checks: ownChecks, background, parentId, parentConversation, deliverToAgent, idempotencyKey, onParentStop } = checkDelegateRequest(request, known.map((type) => type.name));
    // A task's checks over its agent type's; answers checked per task (2 once a schema retry was made).
    const checks = tasks.map((task, index) => effectiveChecks(ownChecks[index]!, known.find((type) => type.name === (task.agentType ?? 'general'))));
    const attempts = tasks.map(() => 1);
    const batch = 'tasks' in request;
    // What a replay must repeat: the tasks and how they run (not the conversation they may fork, the signal or the batch limit).
    const digest = idempotencyKey === null ? '' : argumentsDigest('delegate', { tasks, batch, background, deliverToAgent, parentId, ...(onParentStop ? { onParentStop } : {}) });
    if (idempotencyKey !== null) {
      const first = deps.keys.replay(parentId, idempotencyKey, 'delegate', digest);
      if (first?.kind === 'delegate') return { delegationId: first.delegationId, handleIds: first.handleIds, result: first.result ?? outcomeOf(first.delegationId) };
    }
    // Depth, pausing and the parent's existence are the supervisor's rules: asked once, before anything starts.
    const refusal = core.spawnRefusal(parentId);
    if (refusal) throw refusal;
    if (background && activeBackground >= deps.maxBackground()) throw new BackgroundLimitError(activeBackground, deps.maxBackground());
    const budgets = core.planBudgets(parentId, tasks.map((task) => task.budget ?? agentTypeBudget(task.agentType)));
    const prepared = tasks.map((task, index) => ({
      ...deps.prepare({ ...task, budget: budgets[index] }, { parentId, parentConversation, fieldPrefix: batch ? `tasks[${index}].` : '' }),
      ...(onParentStop ? { onParentStop } : {}),
    }));
    const delegationId = `dg_${nanoid(10)}`;
    const ids = prepared.map(() => `sa_${nanoid(10)}`);
    // Only delegations an agent started from its tools come back into its conversation.
    const agent = background && request.deliverToAgent ? (parentId ?? ROOT_AGENT) : null;
    const stored: StoredDelegation = { id: delegationId, parentId, background, agent, goals: tasks.map((task) => task.goal), handleIds: ids, goalSeqs: ids.map(() => null), ends: ids.map(() => null), outcome: null };
    // Written before any child exists: a restore accounts for every child it names, started or not.
    write(stored);
    const settlers = new Map<string, (end: TaskEnd) => void>();
    const ends = ids.map((id, index) => new Promise<TaskEnd>((resolve) => settlers.set(id, (end) => {
      settlers.delete(id);
      settleTask(stored, index, end);
      resolve(end);
    })));

    /** Spawns one child, listens for the end of its goal, then gives it the goal. */
    const start = (index: number) => {
      const id = ids[index]!;
      const child = prepared[index]!;
      core.spawnId({ ...child, name: id });
      let goalSeq = -1;
      const stop = core.listen(id, (event) => {
        if (event.type !== 'input-end' || event.input.seq !== goalSeq) return;
        stop();
        const end: TaskEnd = event.run ? { run: event.run, handedBack: null } : { run: null, handedBack: event.handedBack ?? 'cancelled' };
        // An answer the output schema refuses gets one more turn before the task ends.
        void endAfterRetry(core, id, end, checks[index]?.outputSchema).then((checked) => {
          attempts[index] = checked.attempts;
          settlers.get(id)?.(checked.end);
        });
      });
      const schema = checks[index]?.outputSchema;
      goalSeq = core.enqueue(id, schema ? tasks[index]!.goal + answerInstructions(schema) : tasks[index]!.goal).seq;
      stored.goalSeqs[index] = goalSeq;
      writeTask(stored, index);
    };

    /** Why tasks not yet started must not start: the caller gave up, or the parent was stopped. */
    const stopReason = (): string | null => {
      if (request.signal?.aborted) return 'the delegation was stopped by its caller';
      if (parentId === null) return null;
      const status = core.get(parentId).status;
      return status === 'closed' || status === 'cancelled' || status === 'interrupted' ? `its parent \`${parentId}\` is ${status}` : null;
    };
    const firstSlice = Math.min(SPAWN_SLICE, prepared.length);
    const started: string[] = [];
    try {
      for (let index = 0; index < firstSlice; index += 1) {
        start(index);
        started.push(ids[index]!);
      }
    } catch (error) {
      // Nothing half-done is left behind: children already started are cancelled and closed (which returns their budgets).
      for (const id of started) {
        core.cancel(id);
        core.close(id);
      }
      removeStored(stored);
      throw error;
    }
    if (prepared.length > firstSlice) void startRest(firstSlice);

    /** The rest of a big batch, a slice per turn of the event loop; a task that cannot start says why. */
    async function startRest(from: number): Promise<void> {
      for (let index = from; index < prepared.length; index += 1) {
        if ((index - from) % SPAWN_SLICE === 0) await yieldToEventLoop();
        try {
          const stopped = stopReason();
          if (stopped) throw new Error(stopped);
          start(index);
          started.push(ids[index]!);
        } catch (error) {
          const reason = `The subagent was not started: ${error instanceof Error ? error.message : String(error)}`;
          settlers.get(ids[index]!)?.({ run: null, handedBack: 'cancelled', reason });
        }
      }
    }

    // A caller that gives up stops what it started: nobody would read the results. Children that detach go on, for an inbox.
    let detachedGoOn = false;
    const onAbort = () => {
      for (const id of started) {
        const child = core.get(id);
        if (child.status !== 'running') continue;
        if (child.onParentStop === 'detach') detachedGoOn = true;
        else core.cancel(id);
      }
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) onAbort();

    void Promise.all(ends).finally(() => request.signal?.removeEventListener('abort', onAbort));
    // The caller no longer waits: the result goes to the nearest open agent from the parent up, if it asked for delivery.
    const orphanedTo = () => (detachedGoOn && deliverToAgent && stored.agent === null ? nearestOpenAgent(core, parentId) : null);
    const delivered = conclude(stored, ends, tasks.map((task) => task.goal), { checks, attempts }, orphanedTo);
    if (idempotencyKey !== null) deps.keys.record(parentId, idempotencyKey, digest, { kind: 'delegate', delegationId, handleIds: ids }, delivered);
    return { delegationId, handleIds: ids, result: delivered };
  }

  /** A delegation's result by id, finished or not; for a replay of its idempotency key. */
  const outcomeOf = (id: string): Promise<DelegationOutcome> => {
    const found = delegations.get(id) ?? (kept.get(id)?.outcome ? Promise.resolve(kept.get(id)!.outcome!) : undefined);
    if (!found) throw new Error(`subagents: the delegation \`${id}\` named by an idempotency key is not known; this is a bug`);
    return found;
  };

  /**
   * Writes a delegation without its tasks: each task is a record of its own
   * (its goal's sequence number, its end), so a batch of n tasks writes O(n)
   * bytes, not O(n²). Once the outcome is written, the task records go.
   */
  const write = (stored: StoredDelegation) => {
    if (!deps.store) return;
    deps.store.put(DELEGATIONS, stored.id, { ...stored, goalSeqs: [], ends: [] } satisfies StoredDelegation);
    kept.set(stored.id, stored);
    if (stored.outcome) stored.handleIds.forEach((_, index) => deps.store!.remove(DELEGATION_TASKS, taskKey(stored.id, index)));
  };

  const writeTask = (stored: StoredDelegation, index: number) => {
    if (!deps.store || stored.outcome) return;
    deps.store.put(DELEGATION_TASKS, taskKey(stored.id, index), { goalSeq: stored.goalSeqs[index] ?? null, end: stored.ends[index] ?? null });
  };

  const removeStored = (stored: StoredDelegation) => {
    if (!deps.store) return;
    kept.delete(stored.id);
    deps.store.remove(DELEGATIONS, stored.id);
    deps.store.remove(OUTBOX, stored.id);
    stored.handleIds.forEach((_, index) => deps.store!.remove(DELEGATION_TASKS, taskKey(stored.id, index)));
  };

  function settleTask(stored: StoredDelegation, index: number, end: TaskEnd): void {
    stored.ends[index] = end;
    writeTask(stored, index);
  }

  /** Delegations in the store, by id: what `forget` looks through. */
  const kept = new Map<string, StoredDelegation>();

  /** Once every task has ended: the outcome, written, delivered to the agent that asked (background), announced. */
  function conclude(stored: StoredDelegation, ends: ReadonlyArray<Promise<TaskEnd>>, goals: readonly string[], judging?: { checks: Array<ResultChecks | null>; attempts: number[] }, orphanedTo = (): string | null => null): Promise<DelegationOutcome> {
    const { id: delegationId, parentId, background, agent } = stored;
    // A child with a worktree has it judged as soon as its task ends: the result says what was kept.
    const judged = ends.map(async (ended, index) => {
      const end = await ended;
      const id = stored.handleIds[index]!;
      const worktree = core.setupOf(id)?.isolation === 'worktree' ? await deps.settleWorktree(id) : null;
      // Checks are code: a delegation finished after a restore has none.
      return checkedResult(resultOf(index, { goal: goals[index]! }, id, end, worktree), judging?.checks[index] ?? null, judging?.attempts[index] ?? 1);
    });
    judged.forEach((task, index) => rememberTask(stored.handleIds[index]!, task));
    const result = Promise.all(judged).then((results): DelegationOutcome => ({ delegationId, parentId, background, results }));
    const delivered = result
      .finally(() => {
        if (background) activeBackground -= 1;
      })
      .then((outcome) => {
        // The outcome is written before its delivery: a restore that finds it undelivered delivers it.
        stored.outcome = outcome;
        stored.agent = agent ?? orphanedTo();
        write(stored);
        if (stored.agent !== null) deps.inboxes.delivered(stored.agent, outcome);
        core.hub.emit({ type: 'delegation-end', delegationId, background, parentId, results: outcome.results });
        return outcome;
      });
    remember(delegationId, delivered);
    if (background) {
      activeBackground += 1;
      if (agent !== null) deps.inboxes.started(agent, delegationId);
    }
    return delivered;
  }

  /**
   * Delegations from the store, once its handles are restored: a finished
   * one is readable again and its delivery goes on from where it was; an
   * unfinished one waits for its children still at work, and a child whose
   * goal died with the process (or was never started) ends as lost.
   */
  function restore(contents: StoreContents): void {
    const deliveries = (contents.get(OUTBOX) ?? new Map()) as Map<string, Delivery>;
    for (const stored of storedDelegations(contents)) {
      kept.set(stored.id, stored);
      if (stored.outcome) {
        const outcome = Promise.resolve(stored.outcome);
        remember(stored.id, outcome);
        deps.keys.restoredResult(stored.id, outcome);
        if (stored.agent !== null) resumeDelivery(stored.agent, stored.outcome, deliveries.get(stored.id));
        continue;
      }
      const ends = stored.handleIds.map((handleId, index) => {
        const known = stored.ends[index];
        if (known) return Promise.resolve(known);
        const found = endOfRestoredTask(core.contextOf(handleId), stored.goalSeqs[index] ?? null);
        if (found !== 'running') {
          settleTask(stored, index, found);
          return Promise.resolve(found);
        }
        const seq = stored.goalSeqs[index] ?? core.contextOf(handleId)?.current?.seq ?? -1;
        return new Promise<TaskEnd>((resolve) => {
          const stop = core.listen(handleId, (event) => {
            if (event.type !== 'input-end' || event.input.seq !== seq) return;
            stop();
            const end: TaskEnd = event.run ? { run: event.run, handedBack: null } : { run: null, handedBack: event.handedBack ?? 'cancelled' };
            settleTask(stored, index, end);
            resolve(end);
          });
        });
      });
      deps.keys.restoredResult(stored.id, conclude(stored, ends, stored.goals));
    }
  }

  /** A finished delegation's result goes on to its agent: once, whatever state the crash left its delivery in. */
  function resumeDelivery(agent: string, outcome: DelegationOutcome, delivery: Delivery | undefined): void {
    if (delivery?.state === 'acknowledged') return;
    if (delivery?.state === 'delivered' && agent !== ROOT_AGENT) {
      // Taken into a run: if the agent's stored conversation holds it, that run ended with it in; else it is owed again.
      const content = delivery.message.content;
      if (core.contextOf(agent)?.results.conversation.some((message) => message.content === content)) {
        deps.store?.put(OUTBOX, outcome.delegationId, { ...delivery, state: 'acknowledged' } satisfies Delivery);
        return;
      }
    }
    if (agent !== ROOT_AGENT && !core.contextOf(agent)) return;
    deps.inboxes.redeliver({ delegationId: outcome.delegationId, agent, state: 'pending', message: delivery?.message ?? backgroundResultMessage(outcome) });
  }

  /** The handles are gone: delegations whose agent or children they were go with them, and their deliveries. */
  function forget(ids: readonly string[]): void {
    for (const id of ids) taskResults.delete(id);
    if (!deps.store || kept.size === 0) return;
    const gone = new Set(ids);
    for (const stored of kept.values()) {
      if ((stored.parentId !== null && gone.has(stored.parentId)) || stored.handleIds.every((id) => gone.has(id) || !core.contextOf(id))) {
        removeStored(stored);
      }
    }
  }

  return {
    delegate,
    restore,
    forget,
    delegation: (id: string) => delegations.get(id),
    /** The result of the task a handle was delegated, checks applied; `undefined` for a handle no delegation here started. */
    taskResult: (handleId: string) => taskResults.get(handleId),
    get activeBackground() {
      return activeBackground;
    },
  };
}
