import type { z } from 'zod';
import type { ChatMessage, DelegationResult, OnParentStop } from '../types.js';
import type { delegateTaskSchema } from './task-schema.js';
import type { ResultChecks } from './checked-result.js';

/**
 * One task to delegate to a fresh subagent: `goal`, and optionally `context`,
 * `toolsets`, `role`, `agentType`, `model` (see `taskShape` for each field).
 * The `delegate_task` tool takes the same task, with `agent_type` for
 * `agentType`, except the checks (`outputSchema`, `requireEvidence`,
 * `verify`), which only code gives.
 */
export type DelegateTask = z.output<ReturnType<typeof delegateTaskSchema>> & ResultChecks;

/** A delegation request: one task, or a batch run in parallel under the concurrency cap. */
export type DelegateRequest = (DelegateTask | { tasks: DelegateTask[] }) & {
  /** Return at once with a delegation id; the result is delivered later, exactly once. @default false */
  background?: boolean;
  /** The delegating handle; `null` for the root agent. @default null */
  parentId?: string | null;
  /**
   * With `background`: also put the result into the delegating agent's
   * conversation as a message (what `delegate_task` does). @default false
   */
  deliverToAgent?: boolean;
  /**
   * The delegating agent's conversation up to the call that delegates, for
   * tasks with `contextMode` `'fork'` or `{ lastMessages }` (the agent tools
   * pass the calling agent's). @default the parent handle's conversation;
   * none for the root agent
   */
  parentConversation?: readonly ChatMessage[];
  /**
   * Stops the delegation: tasks not started yet are not started, children
   * still working are cancelled, except those that detach (they go on, and
   * with `deliverToAgent` the combined result goes to the nearest open
   * agent's inbox from `parentId` up, since the caller no longer waits).
   */
  signal?: AbortSignal;
  /**
   * What every child of this request does when its parent (`parentId`) is
   * stopped: `'cascade'` stops with it, `'detach'` goes on (see
   * {@link OnParentStop}). @default each task's agent type's, else 'cascade'
   */
  onParentStop?: OnParentStop;
  /**
   * Most tasks this request may carry; more are refused with a
   * `BatchSizeError` before anything starts (`delegate_task` passes its
   * batch size). @default no limit
   */
  maxBatchSize?: number;
  /**
   * Makes the call safe to repeat: a later call of the same caller
   * (`parentId`) with the same key returns this delegation (its ids and its
   * result) and starts nothing; the same key with other arguments is a
   * `BadArgumentError`. Compared: the tasks, `background`, `deliverToAgent`
   * (not `parentConversation`, `signal` or `maxBatchSize`). A key lives as
   * long as the handles it names (until one is forgotten), kept in the store
   * if the runtime has one. `delegate_task` passes the model's tool-call id.
   * @default none
   */
  idempotencyKey?: string;
};

export type { DelegationResult, ExitReason } from '../types.js';

/** The combined result of a delegation, in task order. */
export interface DelegationOutcome {
  delegationId: string;
  parentId: string | null;
  background: boolean;
  results: DelegationResult[];
}

/**
 * What `delegate()` returns at once, in every mode: the ids are known when
 * the call returns; `background` only decides who is told at the end.
 */
export interface Delegation {
  delegationId: string;
  /** The children's handle ids, in task order. */
  handleIds: string[];
  /** Resolves with the combined result once every task ended (also delivered as a `delegation-end` event); never rejects. */
  result: Promise<DelegationOutcome>;
}

/** @deprecated The same as {@link Delegation}: every delegation returns one. */
export type BackgroundDelegation = Delegation;

export type { ModelPrice, ModelPrices } from '../types.js';
