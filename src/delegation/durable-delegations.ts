/** Delegations in a store: what a restore needs to finish them and deliver their results exactly once. */
import type { HandleContext, RunReport } from '../machines/handle.js';
import type { HandBackReason } from '../types.js';
import type { DelegationOutcome } from './delegation-types.js';
import type { StoreContents } from '../store/store-types.js';

/** The collection of delegations (each without its tasks' progress). */
export const DELEGATIONS = 'delegation';

/** The collection of the tasks of unfinished delegations: one record per task, `taskKey(delegationId, index)`. */
export const DELEGATION_TASKS = 'delegation-task';

export const taskKey = (delegationId: string, index: number) => `${delegationId}#${index}`;

/** A task of an unfinished delegation as stored. */
export interface StoredTask {
  goalSeq: number | null;
  end: TaskEnd | null;
}

/** How a task ended: its goal was processed by a run, or handed back before one started it. */
export type TaskEnd = { run: RunReport; handedBack: null } | { run: null; handedBack: HandBackReason; reason?: string };

/**
 * A delegation: written before its children exist and again with its
 * outcome; `goalSeqs` and `ends` are kept per task, in {@link DELEGATION_TASKS}
 * (stored empty here), until the outcome is written.
 */
export interface StoredDelegation {
  id: string;
  parentId: string | null;
  background: boolean;
  /** The agent its result is delivered to (background delegations from an agent's tools), or `null`. */
  agent: string | null;
  goals: string[];
  handleIds: string[];
  /** The sequence number of each child's goal, once given. */
  goalSeqs: Array<number | null>;
  ends: Array<TaskEnd | null>;
  outcome: DelegationOutcome | null;
}

/** The end of a task whose child is gone, or was never started, when its process died. */
export const LOST_TASK: TaskEnd = { run: null, handedBack: 'interrupted', reason: 'The subagent was lost on restart before it started its task.' };

/**
 * Where a restored delegation's task stands, read from its child's restored
 * chart: ended (by a run, the lost one included, or handed back), still
 * `running` (queued or waiting for a slot), or lost.
 */
export function endOfRestoredTask(context: Readonly<HandleContext> | undefined, goalSeq: number | null): TaskEnd | 'running' {
  if (!context) return LOST_TASK;
  // A delegated child's first input is its goal.
  const { lastRun } = context.results;
  const { queue, returned, previousStatus } = context.inputs;
  const seq = goalSeq ?? lastRun?.input.seq ?? context.current?.seq ?? returned[0]?.seq ?? null;
  if (seq === null) return LOST_TASK;
  if (lastRun?.input.seq === seq) return { run: lastRun, handedBack: null };
  if (context.current?.seq === seq || queue.some((input) => input.seq === seq)) return 'running';
  if (returned.some((input) => input.seq === seq)) return { run: null, handedBack: previousStatus === null ? 'cancelled' : 'closed' };
  return LOST_TASK;
}

/** The stored delegations, each with its tasks' progress put back. */
export function storedDelegations(contents: StoreContents): StoredDelegation[] {
  const tasks = (contents.get(DELEGATION_TASKS) ?? new Map()) as Map<string, StoredTask>;
  return [...((contents.get(DELEGATIONS)?.values() ?? []) as Iterable<StoredDelegation>)].map((stored) => ({
    ...stored,
    goalSeqs: stored.handleIds.map((_, index) => tasks.get(taskKey(stored.id, index))?.goalSeq ?? stored.goalSeqs[index] ?? null),
    ends: stored.handleIds.map((_, index) => tasks.get(taskKey(stored.id, index))?.end ?? stored.ends[index] ?? null),
  }));
}
