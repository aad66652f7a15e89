/** Delegations in a store: what a restore needs to finish them and deliver their results exactly once. */
import type { HandleContext, RunReport } from '../machines/handle.js';
import type { HandBackReason } from '../types.js';
import type { DelegationOutcome } from './delegation-types.js';

/** The collection of delegations. */
export const DELEGATIONS = 'delegation';

/** How a task ended: its goal was processed by a run, or handed back before one started it. */
export type TaskEnd = { run: RunReport; handedBack: null } | { run: null; handedBack: HandBackReason; reason?: string };

/** A delegation as stored: written before its children exist, again as each task ends, and with its outcome. */
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
  const seq = goalSeq ?? context.lastRun?.input.seq ?? context.current?.seq ?? context.returned[0]?.seq ?? null;
  if (seq === null) return LOST_TASK;
  if (context.lastRun?.input.seq === seq) return { run: context.lastRun, handedBack: null };
  if (context.current?.seq === seq || context.queue.some((input) => input.seq === seq)) return 'running';
  if (context.returned.some((input) => input.seq === seq)) return { run: null, handedBack: context.previousStatus === null ? 'cancelled' : 'closed' };
  return LOST_TASK;
}
