import type { SnapshotFrom } from 'xstate';
import type { HandleMachine } from '../machines/handle.js';
import type { HandleSnapshot, HandleStatus, WorktreeReport } from '../types.js';
import type { SubagentRef } from './events.js';
import { progressOf } from './activity.js';
import { budgetViewOf } from '../machines/budget.js';

export type HandleActorSnapshot = SnapshotFrom<HandleMachine>;

/** The status of a handle: its top-level state. */
export function statusOf(snapshot: HandleActorSnapshot): HandleStatus {
  const value = snapshot.value;
  return typeof value === 'string' ? value : 'running';
}

/** The public, plain-JSON view of a handle actor's snapshot, with its worktree (which the runtime keeps beside the chart). */
export function toHandleSnapshot(snapshot: HandleActorSnapshot, worktreeOf: (id: string) => WorktreeReport | null = () => null): HandleSnapshot {
  const context = snapshot.context;
  const spec = context.spec;
  const status = statusOf(snapshot);
  const { results, inputs } = context;
  const preview = inputs.queue[0]?.message ?? null;
  return {
    id: spec.id,
    name: spec.name,
    status,
    parentId: spec.parentId,
    depth: spec.depth,
    role: spec.role,
    agentType: spec.agentType,
    model: spec.model,
    goal: spec.goal,
    createdAt: new Date(inputs.createdAt).toISOString(),
    updatedAt: new Date(context.updatedAt).toISOString(),
    revision: context.revision,
    lastInput: results.lastInput,
    lastOutput: results.lastOutput,
    error: results.error,
    queueSize: inputs.queue.length,
    queuedPreview: preview,
    closed: status === 'closed',
    waitingForSlot: snapshot.matches({ running: 'awaitingSlot' }),
    usage: { ...results.usage },
    runs: results.runsEnded,
    lastOutcome: results.lastRun?.outcome ?? null,
    partialOutput: results.lastRun?.partialOutput ?? null,
    previousStatus: inputs.previousStatus,
    worktree: worktreeOf(spec.id),
    awaitingApproval: context.run?.activity.awaitingApproval ? { ...context.run.activity.awaitingApproval } : null,
    progress: context.run ? progressOf(context.run) : null,
    budget: budgetViewOf(context),
    onParentStop: spec.onParentStop ?? 'cascade',
  };
}

/** Who a handle is, for events. */
export function refOf(snapshot: HandleActorSnapshot): SubagentRef {
  const { id, parentId, depth, goal, model } = snapshot.context.spec;
  return { handleId: id, parentId, depth, goal, model };
}
