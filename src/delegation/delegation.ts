import { nanoid } from 'nanoid';
import { addUsage, noUsage } from '../usage.js';
import { BackgroundLimitError } from '../errors.js';
import type { RunReport } from '../machines/handle.js';
import type { AgentType } from './agent-types.js';
import type { HandBackReason, Usage, WorktreeReport } from '../types.js';
import type {
  Delegation,
  DelegateRequest,
  DelegateTask,
  DelegationOutcome,
  DelegationResult,
  ExitReason,
  ModelPrices,
} from './delegation-types.js';
import { BackgroundInboxes, ROOT_AGENT } from './inbox.js';
import type { HandleApi, HandleSpawn } from '../runtime/runtime-types.js';
import type { ChildOrigin } from './prepare.js';
import { knownAgentTypes } from './task-schema.js';
import { checkDelegateRequest } from './validate-delegation.js';

/** Tasks spawned in one go; a bigger batch yields to the event loop between slices. */
export const SPAWN_SLICE = 200;

const MAX_REMEMBERED_DELEGATIONS = 1000;

/** How a task ended: its goal was processed by a run, or handed back before one started it. */
type TaskEnd = { run: RunReport; handedBack: null } | { run: null; handedBack: HandBackReason; reason?: string };

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
}

export function costOf(prices: ModelPrices | undefined, model: string | null, usage: Usage): number | null {
  const price = model ? prices?.[model] : undefined;
  if (!price) return null;
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Delegation: spawns one child per task, gives it its goal, and reports what
 * the chart did with that goal (its `input-end`): nothing is made up beside it.
 */
export function createDelegator(deps: DelegatorDeps) {
  const { core } = deps;
  const delegations = new Map<string, Promise<DelegationOutcome>>();
  let activeBackground = 0;

  /** Keeps the most recent delegations for `delegation(id)`: a long-lived runtime must not keep them all. */
  const remember = (id: string, outcome: Promise<DelegationOutcome>) => {
    delegations.set(id, outcome);
    if (delegations.size > MAX_REMEMBERED_DELEGATIONS) delegations.delete(delegations.keys().next().value!);
  };

  function resultOf(taskIndex: number, task: DelegateTask, handleId: string, end: TaskEnd, worktree: WorktreeReport | null): DelegationResult {
    const setup = core.setupOf(handleId);
    const model = setup?.model ?? 'custom';
    // The child's own run plus whatever its descendants spent.
    const tokens: Usage = end.run ? { ...end.run.stats.usage } : noUsage();
    for (const member of core.subtree(handleId)) {
      if (member === handleId) continue;
      addUsage(tokens, core.get(member).usage);
    }
    const common = {
      taskIndex,
      handleId,
      goal: task.goal,
      usage: tokens,
      cost: costOf(deps.pricesOf(setup?.provider ?? null), model, tokens),
      model,
      deniedToolsets: setup?.deniedToolsets ?? [],
      degradedToLeaf: setup?.degradedToLeaf ?? false,
      worktree,
    };
    if (!end.run) {
      const status = end.handedBack === 'interrupted' ? 'interrupted' : 'cancelled';
      const error = end.reason ?? `The subagent was ${end.handedBack} before it started its task.`;
      return { ...common, status, summary: error, partialOutput: null, exitReason: 'interrupted', apiCalls: 0, durationMs: 0, toolTrace: [], error, errorCode: null };
    }
    const run = end.run;
    const exitReason: ExitReason =
      run.outcome === 'completed'
        ? 'completed'
        : run.outcome === 'cancelled'
          ? 'interrupted'
          : run.errorCode === 'max_iterations'
            ? 'max_iterations'
            : run.outcome;
    const fallback = run.outcome === 'interrupted' ? 'The subagent was interrupted before it finished.' : 'The subagent was cancelled before it finished.';
    return {
      ...common,
      status: run.outcome,
      summary: run.outcome === 'completed' ? (run.output ?? '') : (run.error ?? fallback),
      partialOutput: run.partialOutput,
      exitReason,
      apiCalls: run.stats.apiCalls,
      durationMs: Math.round(run.durationMs),
      toolTrace: run.stats.toolTrace,
      error: run.outcome === 'completed' ? null : (run.error ?? fallback),
      errorCode: run.errorCode,
    };
  }

  function delegate(request: DelegateRequest): Delegation {
    const agentTypes = knownAgentTypes(deps.agentTypes()).map((type) => type.name);
    const { tasks, background, parentId, parentConversation } = checkDelegateRequest(request, agentTypes);
    // Depth, pausing and the parent's existence are the supervisor's rules: asked once, before anything starts.
    const refusal = core.spawnRefusal(parentId);
    if (refusal) throw refusal;
    if (background && activeBackground >= deps.maxBackground()) throw new BackgroundLimitError(activeBackground, deps.maxBackground());
    const batch = 'tasks' in request;
    const prepared = tasks.map((task, index) => deps.prepare(task, { parentId, parentConversation, fieldPrefix: batch ? `tasks[${index}].` : '' }));
    const delegationId = `dg_${nanoid(10)}`;
    const ids = prepared.map(() => `sa_${nanoid(10)}`);
    const settlers = new Map<string, (end: TaskEnd) => void>();
    const ends = ids.map((id) => new Promise<TaskEnd>((resolve) => settlers.set(id, resolve)));

    /** Spawns one child, listens for the end of its goal, then gives it the goal. */
    const start = (index: number) => {
      const id = ids[index]!;
      const child = prepared[index]!;
      core.spawn({ ...child, name: id });
      let goalSeq = -1;
      const stop = core.listen(id, (event) => {
        if (event.type !== 'input-end' || event.input.seq !== goalSeq) return;
        stop();
        settlers.get(id)?.(event.run ? { run: event.run, handedBack: null } : { run: null, handedBack: event.handedBack ?? 'cancelled' });
      });
      goalSeq = core.enqueue(id, tasks[index]!.goal).seq;
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
      // Nothing half-done is left behind: children already started are cancelled.
      for (const id of started) core.cancel(id);
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

    // A caller that gives up stops what it started: nobody would read the results.
    const onAbort = () => {
      for (const id of started) {
        if (core.get(id).status === 'running') core.cancel(id);
      }
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) onAbort();

    // A child with a worktree has it judged as soon as its task ends: the result says what was kept.
    const settled = ends.map((end, index) =>
      end.then(async (taskEnd) => ({
        end: taskEnd,
        worktree: core.setupOf(ids[index]!)?.isolation === 'worktree' ? await deps.settleWorktree(ids[index]!) : null,
      })),
    );
    const result = Promise.all(settled).finally(() => request.signal?.removeEventListener('abort', onAbort)).then(
      (events): DelegationOutcome => ({
        delegationId,
        parentId,
        background,
        results: events.map(({ end, worktree }, index) => resultOf(index, tasks[index]!, ids[index]!, end, worktree)),
      }),
    );
    // Only delegations an agent started from its tools come back into its conversation.
    const agent = background && request.deliverToAgent ? (parentId ?? ROOT_AGENT) : null;
    const delivered = result
      .finally(() => {
        if (background) activeBackground -= 1;
      })
      .then((outcome) => {
        if (agent !== null) deps.inboxes.delivered(agent, outcome);
        core.hub.emit({ type: 'delegation-end', delegationId, background, parentId, results: outcome.results });
        return outcome;
      });
    remember(delegationId, delivered);
    if (background) {
      activeBackground += 1;
      if (agent !== null) deps.inboxes.started(agent, delegationId);
    }
    return { delegationId, handleIds: ids, result: delivered };
  }

  return {
    delegate,
    delegation: (id: string) => delegations.get(id),
    get activeBackground() {
      return activeBackground;
    },
  };
}
