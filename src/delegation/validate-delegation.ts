/**
 * Checks a delegation request against the one task schema and the request's
 * limits, before anything starts. Every error is a typed one naming the field
 * by its path (`tasks[1].agentType`), what was expected and what came.
 */
import type { z } from 'zod';
import { BadArgumentError, BatchSizeError } from '../errors.js';
import type { DelegateRequest, DelegateTask } from './delegation-types.js';
import type { ChatMessage, OnParentStop } from '../types.js';
import { checkOnParentStop } from '../runtime/stop-policy.js';
import { delegateTaskSchema } from './task-schema.js';
import { checkIdempotencyKey } from './idempotency.js';
import { CHECK_FIELDS, checkResultChecks } from './checked-result.js';
import type { ResultChecks } from './checked-result.js';

/** A request once checked: its tasks in order, and who asked for what. */
export interface CheckedRequest {
  tasks: DelegateTask[];
  /** Each task's own checks (`outputSchema`, `requireEvidence`, `verify`), in task order; code-only, so kept apart from the tasks. */
  checks: ResultChecks[];
  background: boolean;
  parentId: string | null;
  /** The delegating agent's conversation, for tasks that fork it. */
  parentConversation: readonly ChatMessage[] | undefined;
  deliverToAgent: boolean;
  /** `null`: none given. */
  idempotencyKey: string | null;
  /** `undefined`: each task's agent type decides. */
  onParentStop: OnParentStop | undefined;
}

/** A path as the errors write it: `tasks[0].goal`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? String(segment) : `.${String(segment)}`)).join('');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    current = typeof current === 'object' && current !== null ? (current as Record<PropertyKey, unknown>)[segment] : undefined;
  }
  return current;
}

/** A field that is not a task's, at `path` (`tasks[0].bogus`). */
export function unknownFieldError(path: string, value: unknown): BadArgumentError {
  return new BadArgumentError(path, 'absent (not a task field)', value);
}

const withArticle = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

/** The first problem zod found, as a BadArgumentError naming the field, what it expected and what came. */
function firstIssue(error: z.ZodError, input: unknown, prefix: readonly PropertyKey[]): BadArgumentError {
  const issue = error.issues[0];
  if (!issue) return new BadArgumentError(pathText(prefix) || 'request', 'a valid task', input);
  const path = [...prefix, ...issue.path];
  const received = valueAt(input, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      return unknownFieldError(pathText([...path, key]), valueAt(received, [key]));
    }
    case 'invalid_type':
      return new BadArgumentError(pathText(path), withArticle(issue.expected), received);
    case 'invalid_value':
      return new BadArgumentError(pathText(path), `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`, received);
    default:
      // The task schema's own messages read "expected …".
      return new BadArgumentError(pathText(path), issue.message.replace(/^expected /, ''), received);
  }
}

/** A task's checks, taken out of it (they are functions and schemas, not fields the task schema knows). */
function takeChecks(task: unknown, prefix: readonly PropertyKey[]): { task: unknown; checks: ResultChecks } {
  if (typeof task !== 'object' || task === null || Array.isArray(task)) return { task, checks: {} };
  const rest: Record<string, unknown> = { ...task };
  const fields: Record<string, unknown> = {};
  for (const field of CHECK_FIELDS) {
    if (field in rest) fields[field] = rest[field];
    delete rest[field];
  }
  return { task: rest, checks: checkResultChecks(fields, prefix.length === 0 ? '' : `${pathText(prefix)}.`) };
}

/** Parses one task; `prefix` is where it sits in the request. */
function checkTask(given: unknown, prefix: readonly PropertyKey[], agentTypes: readonly string[]): { task: DelegateTask; checks: ResultChecks } {
  const { task, checks } = takeChecks(given, prefix);
  const result = delegateTaskSchema().safeParse(task);
  if (!result.success) throw firstIssue(result.error, task, prefix);
  const { agentType } = result.data;
  if (agentType !== undefined && !agentTypes.includes(agentType)) {
    throw new BadArgumentError(pathText([...prefix, 'agentType']), `one of ${agentTypes.map((name) => `'${name}'`).join(', ')}`, agentType);
  }
  return { task: result.data, checks };
}

/** The tasks of the batch form, checked in order; the first bad one throws. */
function checkBatch(rest: Record<string, unknown>, maxBatchSize: number | undefined, agentTypes: readonly string[]): Array<{ task: DelegateTask; checks: ResultChecks }> {
  const { tasks, ...extra } = rest;
  const extraKey = Object.keys(extra)[0];
  if (extraKey !== undefined) throw new BadArgumentError(extraKey, 'absent next to `tasks` (put it inside each task)', extra[extraKey]);
  if (!Array.isArray(tasks) || tasks.length === 0) throw new BadArgumentError('tasks', 'a non-empty array of tasks', tasks);
  if (maxBatchSize !== undefined && tasks.length > maxBatchSize) throw new BatchSizeError(tasks.length, maxBatchSize);
  return tasks.map((task: unknown, index) => checkTask(task, ['tasks', index], agentTypes));
}

/**
 * Checks a delegation request and splits it into tasks; throws a
 * BadArgumentError naming the field (a BatchSizeError for too many tasks).
 *
 * @param agentTypes the names a task may give as its agent type.
 * @example
 * ```ts
 * const { tasks } = checkDelegateRequest({ goal: 'Summarise README.md' }, ['general']);
 * ```
 */
export function checkDelegateRequest(request: DelegateRequest, agentTypes: readonly string[]): CheckedRequest {
  if (typeof request !== 'object' || request === null) {
    throw new BadArgumentError('request', 'an object with `goal` or `tasks`', request);
  }
  const { background = false, parentId = null, deliverToAgent = false, signal, maxBatchSize, parentConversation, idempotencyKey: key, onParentStop, ...rest } = request as DelegateRequest &
    Record<string, unknown>;
  const idempotencyKey = checkIdempotencyKey(key);
  if (parentConversation !== undefined && !Array.isArray(parentConversation)) {
    throw new BadArgumentError('parentConversation', 'an array of chat messages', parentConversation);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new BadArgumentError('signal', 'an AbortSignal', signal);
  if (typeof deliverToAgent !== 'boolean') throw new BadArgumentError('deliverToAgent', 'a boolean', deliverToAgent);
  if (typeof background !== 'boolean') throw new BadArgumentError('background', 'a boolean', background);
  if (parentId !== null && typeof parentId !== 'string') throw new BadArgumentError('parentId', 'a handle id or null', parentId);
  if (maxBatchSize !== undefined && !(Number.isInteger(maxBatchSize) && maxBatchSize >= 1)) {
    throw new BadArgumentError('maxBatchSize', 'an integer >= 1', maxBatchSize);
  }
  const common = { background, parentId, parentConversation, deliverToAgent, idempotencyKey, onParentStop: checkOnParentStop(onParentStop, 'onParentStop') };
  if (rest.goal === undefined && !('tasks' in rest)) throw new BadArgumentError('goal', 'a goal (one task), or `tasks` (a batch)', undefined);
  const checked = 'tasks' in rest ? checkBatch(rest, maxBatchSize, agentTypes) : [checkTask(rest, [], agentTypes)];
  return { tasks: checked.map(({ task }) => task), checks: checked.map(({ checks }) => checks), ...common };
}
