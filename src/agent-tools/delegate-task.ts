/**
 * `delegate_task`: one task (`goal`, …) or a batch (`tasks`), run now or in
 * the background, on subagents of the calling agent.
 */
import { z } from 'zod';
import { BatchSizeError } from '../errors.js';
import type { DelegateRequest, Delegation, DelegationOutcome, DelegationResult } from '../delegation/delegation-types.js';
import { fieldNameOf, isRenamedField, taskShape, toolFieldName } from '../delegation/task-schema.js';
import { unknownFieldError } from '../delegation/validate-delegation.js';
import type { ToolTraceEntry } from '../types.js';
import { abortable } from '../toolkit/abortable.js';
import { DEFAULT_BACKGROUND_DELIVERY } from './agent-tool-settings.js';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from '../toolkit/define-tool.js';
import { batchWaysOut, delegationFacts, describeDelegateTask } from './delegate-task-description.js';
import { defineDynamicTool } from '../toolkit/dynamic-tool.js';
import { AgentToolError, toolErrorOf } from '../toolkit/tool-error.js';
import { DELEGATION_TOOLSET } from '../toolkit/toolsets.js';
import { checkView, worktreeView } from '../toolkit/tool-result.js';
import { CHECK_FIELDS } from '../delegation/checked-result.js';
import { callKey } from './call-key.js';

/**
 * The task of `runtime.delegate` under the tool's field names, with what the
 * model reads about each field; `provider` is an enum of the configured
 * names, left out when there are none (a custom run).
 */
function toolTaskShape(providers: readonly string[]) {
  const { provider: _provider, ...shape } = taskShape();
  const described = {
    ...shape,
    goal: shape.goal.describe('What the subagent must achieve: specific and self-contained.'),
    context: shape.context.describe('What it needs to know, since it sees nothing of your conversation: paths, errors, constraints, language.'),
    model: shape.model.describe("Model for this subagent. Default: its provider's model, else the runtime's."),
    cwd: shape.cwd.describe(WORKING_DIR_TEXT),
    isolation: shape.isolation.describe(ISOLATION_TEXT),
    contextMode: shape.contextMode.describe(CONTEXT_MODE_TEXT),
    ...(providers.length > 0 ? { provider: providerEnum(providers) } : {}),
  };
  return Object.fromEntries(Object.entries(described).map(([field, schema]) => [toolFieldName(field), schema]));
}

/** What the model reads about `working_dir`. */
export const WORKING_DIR_TEXT = 'Its working directory: relative to yours, or absolute, and inside yours. Default: yours.';
/** What the model reads about `isolation`. */
export const ISOLATION_TEXT =
  "'worktree': it works in a git worktree of its own (a new branch from your tree's HEAD), so its edits do not touch your files; " +
  'the result says whether it changed anything and where. Default: none.';
/** What the model reads about `context_mode`. */
export const CONTEXT_MODE_TEXT =
  "What it starts with: 'fresh' (only what you write in goal and context), 'fork' (a copy of your conversation so far) " +
  "or { lastMessages: n } (its last n messages). Default: 'fresh'.";

/** The configured providers as the model may name them. */
export function providerEnum(providers: readonly string[]) {
  const [first = 'default', ...rest] = providers;
  return z
    .enum([first, ...rest])
    .optional()
    .describe(`Where this subagent's model calls go: one of ${providers.map((name) => `'${name}'`).join(', ')}. Default: its agent type's, else '${first}'.`);
}

/** What the model reads about `background`, by its default. */
function backgroundDescription(byDefault: boolean): string {
  return byDefault
    ? 'Return at once and read the combined result later. Default: true; false waits for the results (a long wait may outlast the request).'
    : 'Return at once and get the combined result later as a message. Default: false (wait for the results).';
}

/** The schema the model sees: one task at the top level, or a batch in `tasks`. */
const advertisedSchema = (providers: readonly string[], backgroundByDefault: boolean) => {
  const task = toolTaskShape(providers);
  return z.object({
    ...task,
    goal: taskShape().goal.optional().describe('One task: what the subagent must achieve, specific and self-contained. Leave out when you give tasks.'),
    tasks: z.array(z.object(task).strict()).min(1, 'expected a non-empty array of tasks').optional(),
    background: z.boolean().optional().describe(backgroundDescription(backgroundByDefault)),
  });
};

/** A string that should have been an array: models sometimes send `tasks` as JSON text. */
function recoverJsonArray(value: unknown, context: z.core.$RefinementCtx): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    context.addIssue({
      code: 'custom',
      input: value,
      message: `expected an array of task objects; a string came and it is not valid JSON (${reason})`,
    });
    return value;
  }
}

/**
 * What the tool parses itself: which fields came (unknown ones are refused
 * against the advertised schema) and `tasks` sent as JSON text. The values
 * are checked by `runtime.delegate`, the one place that checks a task.
 */
const parserSchema = () =>
  z.object({
    ...Object.fromEntries(Object.keys(taskShape()).map((name) => [toolFieldName(name), z.unknown().optional()])),
    tasks: z.preprocess(recoverJsonArray, z.unknown()).optional(),
    background: z.unknown().optional(),
  });

type ToolArguments = z.output<ReturnType<typeof parserSchema>>;

/**
 * A task as the model wrote it, under the runtime's names. A runtime name the
 * tool spells differently is not a field of the tool (tasks sent as JSON text
 * reach here unchecked). What is not an object is left for delegate() to refuse.
 */
function fromToolNames(task: unknown, path: string): unknown {
  if (typeof task !== 'object' || task === null || Array.isArray(task)) return task;
  return Object.fromEntries(
    Object.entries(task).map(([key, value]) => {
      // Output schemas and verify functions come from code, never from the model.
      if (isRenamedField(key) || (CHECK_FIELDS as readonly string[]).includes(key)) {
        // Already the model's spelling: not to be renamed on the way out.
        throw new AgentToolError('bad_argument', `${path}${key}`, unknownFieldError(`${path}${key}`, value).message);
      }
      return [fieldNameOf(key), value];
    }),
  );
}

/** A field path of the runtime's (`tasks[0].agentType`) as the tool spells it (`tasks[0].agent_type`). */
const toolPath = (path: string) => path.split('.').map(toolFieldName).join('.');

/** The request for `runtime.delegate`, as the model sent it; `delegate()` checks every value. */
function requestOf(args: ToolArguments): Record<string, unknown> {
  const { tasks, background: _background, ...single } = args;
  const fields = fromToolNames(single, '') as Record<string, unknown>;
  if (tasks === undefined) return fields;
  return { ...fields, tasks: Array.isArray(tasks) ? tasks.map((task: unknown, index) => fromToolNames(task, `tasks[${index}].`)) : tasks };
}

/** What the model reads about one task's result. */
function resultView(result: DelegationResult) {
  return {
    task: result.taskIndex,
    handleId: result.handleId,
    status: result.status,
    exitReason: result.exitReason,
    summary: result.summary,
    apiCalls: result.apiCalls,
    durationMs: result.durationMs,
    usage: result.usage,
    ...(result.cost !== null ? { cost: result.cost } : {}),
    model: result.model,
    toolTrace: traceSummary(result.toolTrace),
    deniedToolsets: result.deniedToolsets,
    degradedToLeaf: result.degradedToLeaf,
    ...(result.error !== null ? { error: result.error } : {}),
    ...(result.worktree ? { worktree: worktreeView(result.worktree) } : {}),
    ...checkView(result),
  };
}

/** Counts per tool and the first few failures, instead of every call. */
function traceSummary(trace: readonly ToolTraceEntry[]) {
  const byTool: Record<string, number> = {};
  for (const entry of trace) byTool[entry.tool] = (byTool[entry.tool] ?? 0) + 1;
  const failures = trace.filter((entry) => !entry.ok);
  return {
    calls: trace.length,
    failed: failures.length,
    byTool,
    ...(failures.length > 0
      ? { failures: failures.slice(0, 3).map((entry) => ({ tool: entry.tool, error: (entry.error ?? '').slice(0, 200) })) }
      : {}),
  };
}

/**
 * A delegation's combined result as the model reads it from `delegate_task`.
 *
 * @example
 * ```ts
 * const view = delegationOutcomeView(await runtime.delegate({ goal: 'Summarise README.md' }).result);
 * ```
 */
export function delegationOutcomeView(outcome: DelegationOutcome) {
  return { delegationId: outcome.delegationId, background: outcome.background, results: outcome.results.map(resultView) };
}

/**
 * Creates `delegate_task` over a runtime. Its description states the limits
 * configured when the definition is requested.
 *
 * @example
 * ```ts
 * const delegateTask = createDelegateTaskTool(resolveAgentToolsSettings(runtime));
 * ```
 */
export function createDelegateTaskTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parserSchema>, unknown> {
  const { runtime } = settings;
  /** A refusal of `delegate()`, worded for the model under the tool's field names. */
  const forTheModel = (error: unknown): unknown =>
    error instanceof BatchSizeError
      ? new AgentToolError(
          'bad_argument',
          'tasks',
          `${error.message}: ${batchWaysOut({ maxBatchSize: error.maxBatchSize, maxBackground: runtime.options.maxBackground })}.`,
        )
      : toolErrorOf(error, toolPath);
  return defineDynamicTool({
    name: 'delegate_task',
    toolset: DELEGATION_TOOLSET,
    parameters: parserSchema(),
    advertised: advertisedSchema(runtime.options.providers, settings.backgroundByDefault),
    describe: (caller) => describeDelegateTask(delegationFacts(settings, caller)),
    execute: async (args, context) => {
      // Left out, it takes the tool set's default; any other value is for delegate() to check.
      const requestedBackground = args.background === undefined ? settings.backgroundByDefault : args.background;
      const background = requestedBackground === true;
      const idempotencyKey = callKey(context);
      let started: Delegation;
      try {
        // Checked in full by delegate(), synchronously, before anything starts: limits included.
        const request = {
          ...requestOf(args),
          background: requestedBackground,
          parentId: context.handleId,
          ...(context.conversation ? { parentConversation: context.conversation() } : {}),
          deliverToAgent: true,
          maxBatchSize: settings.maxBatchSize(),
          // The call's id: the same call run again returns this delegation rather than starting another.
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          // The tool's signal stops a delegation it waits for: its children are cancelled, later slices never start.
          ...(background ? {} : { signal: context.signal }),
        } as DelegateRequest;
        started = runtime.delegate(request);
      } catch (error) {
        throw forTheModel(error);
      }
      const { delegationId, handleIds } = started;
      if (background) {
        return {
          background: true,
          delegationId,
          handleIds,
          note:
            `Started ${handleIds.length} subagent${handleIds.length === 1 ? '' : 's'} in the background. ` +
            `${backgroundNote(settings.backgroundDelivery)}; keep working meanwhile. wait_agent, agent_status, ` +
            'interrupt_agent and close_agent take these handle ids.',
        };
      }
      const waiting = abortable(started.result, context.signal);
      // Waiting for its own children is not being stale.
      const outcome = await (context.waitingFor ? context.waitingFor(waiting) : waiting);
      return delegationOutcomeView(outcome);
    },
  });
}

/** The answer's sentence on the result: the default delivery keeps its long-standing wording. */
function backgroundNote(delivery: string): string {
  if (delivery === DEFAULT_BACKGROUND_DELIVERY) return 'The combined result will arrive later as a message';
  return delivery.charAt(0).toUpperCase() + delivery.slice(1);
}
