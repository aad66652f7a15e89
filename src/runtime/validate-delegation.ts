import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import type { DelegateRequest, DelegateTask } from './delegation-types.js';

/** One delegated task, as the TypeScript API and the `delegate_task` tool accept it. */
export const delegateTaskSchema = z
  .object({
    goal: z.string().trim().min(1, 'a non-empty goal'),
    context: z.string().optional(),
    toolsets: z.array(z.string().min(1)).optional(),
    role: z.enum(['leaf', 'orchestrator']).optional(),
    agentType: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
  })
  .strict();

/** The first problem zod found, as a BadArgumentError naming the field, what it expected and what came. */
function firstIssue(error: z.ZodError, input: unknown, prefix: string): BadArgumentError {
  const issue = error.issues[0];
  if (!issue) return new BadArgumentError(prefix || 'request', 'a valid task', input);
  let received: unknown = input;
  for (const segment of issue.path) {
    received = typeof received === 'object' && received !== null ? (received as Record<PropertyKey, unknown>)[segment] : undefined;
  }
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return new BadArgumentError(`${path ? `${path}.` : ''}${issue.keys[0]}`, 'absent (unknown field)', 'a value');
    case 'invalid_type':
      return new BadArgumentError(path, `a ${issue.expected}`, received);
    case 'invalid_value':
      return new BadArgumentError(path, `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`, received);
    case 'too_small':
      return new BadArgumentError(path, 'non-empty', received);
    default:
      return new BadArgumentError(path, issue.message, received);
  }
}

/** Checks a delegation request and splits it into tasks; throws BadArgumentError naming the field. */
export function normaliseDelegateRequest(request: DelegateRequest): {
  tasks: DelegateTask[];
  background: boolean;
  parentId: string | null;
} {
  if (typeof request !== 'object' || request === null) {
    throw new BadArgumentError('request', 'an object with `goal` or `tasks`', request);
  }
  const { background = false, parentId = null, deliverToAgent = false, signal, ...rest } = request as DelegateRequest & Record<string, unknown>;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new BadArgumentError('signal', 'an AbortSignal', signal);
  if (typeof deliverToAgent !== 'boolean') throw new BadArgumentError('deliverToAgent', 'a boolean', deliverToAgent);
  if (typeof background !== 'boolean') throw new BadArgumentError('background', 'a boolean', background);
  if (parentId !== null && typeof parentId !== 'string') throw new BadArgumentError('parentId', 'a handle id or null', parentId);
  if ('tasks' in rest) {
    const { tasks, ...extra } = rest as { tasks: unknown };
    const extraKeys = Object.keys(extra);
    if (extraKeys.length > 0) {
      throw new BadArgumentError(extraKeys[0]!, 'absent next to `tasks` (put it inside each task)', extra[extraKeys[0] as keyof typeof extra]);
    }
    if (!Array.isArray(tasks) || tasks.length === 0) throw new BadArgumentError('tasks', 'a non-empty array of tasks', tasks);
    const parsed = tasks.map((task: unknown, index) => {
      const result = delegateTaskSchema.safeParse(task);
      if (!result.success) throw firstIssue(result.error, task, `tasks.${index}`);
      return result.data;
    });
    return { tasks: parsed, background, parentId };
  }
  const result = delegateTaskSchema.safeParse(rest);
  if (!result.success) throw firstIssue(result.error, rest, '');
  return { tasks: [result.data], background, parentId };
}
