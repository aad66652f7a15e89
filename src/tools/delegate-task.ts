/**
 * `delegate_task`: one task (`goal`, …) or a batch (`tasks`), run now or in
 * the background, on subagents of the calling agent.
 */
import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import type { DelegateTask, DelegationOutcome, DelegationResult } from '../runtime/delegation-types.js';
import type { ToolTraceEntry } from '../types.js';
import { abortable } from './abortable.js';
import { callerDepth, knownAgentTypes } from './agent-tool-settings.js';
import type { AgentToolsSettings } from './agent-tool-settings.js';
import type { Tool } from './define-tool.js';
import { batchWaysOut, delegationFacts, describeDelegateTask, nestingClause } from './delegate-task-description.js';
import { defineDynamicTool } from './dynamic-tool.js';
import { AgentToolError } from './tool-error.js';
import { TEXT_LIMIT, agentTypeSchema, modelSchema, roleSchema, textSchema, toolsetsSchema } from './tool-schemas.js';
import { DELEGATION_TOOLSET } from './toolsets.js';

const taskShape = () => ({
  goal: textSchema().describe('What the subagent must achieve: specific and self-contained.'),
  context: z
    .string()
    .max(TEXT_LIMIT, `expected at most ${TEXT_LIMIT} characters`)
    .optional()
    .describe('What it needs to know, since it sees nothing of your conversation: paths, errors, constraints, language.'),
  toolsets: toolsetsSchema().optional(),
  role: roleSchema().optional(),
  agent_type: agentTypeSchema().optional(),
  model: modelSchema().optional().describe("Model for this subagent. Default: the runtime's model."),
});

const taskSchema = () => z.object(taskShape()).strict();
const tasksSchema = () => z.array(taskSchema()).min(1, 'expected a non-empty array of tasks');

/** The fields a task carries, which only the single form may also give at the top level. */
const SINGLE_FIELDS = ['goal', 'context', 'toolsets', 'role', 'agent_type', 'model'] as const;

/** The schema the model sees. */
const advertisedSchema = () =>
  z.object({
    ...taskShape(),
    goal: taskShape().goal.optional().describe('One task: what the subagent must achieve, specific and self-contained. Leave out when you give tasks.'),
    tasks: tasksSchema().optional(),
    background: z
      .boolean()
      .optional()
      .describe('Return at once and get the combined result later as a message. Default: false (wait for the results).'),
  });

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

function parserFor(settings: AgentToolsSettings) {
  return advertisedSchema()
    .extend({ tasks: z.preprocess(recoverJsonArray, tasksSchema()).optional() })
    .superRefine((args, context) => {
      const knownTypes = knownAgentTypes(settings.runtime).map((type) => type.name);
      const checkAgentType = (value: string | undefined, path: PropertyKey[]) => {
        if (value === undefined || knownTypes.includes(value)) return;
        context.addIssue({ code: 'custom', path, input: value, message: `expected one of ${knownTypes.map((name) => `'${name}'`).join(', ')}` });
      };
      if (args.tasks === undefined) {
        if (args.goal === undefined) {
          context.addIssue({ code: 'custom', path: ['goal'], input: undefined, message: "expected a goal (one task) or 'tasks' (a batch)" });
        }
        checkAgentType(args.agent_type, ['agent_type']);
        return;
      }
      for (const field of SINGLE_FIELDS) {
        if (args[field] === undefined) continue;
        context.addIssue({
          code: 'custom',
          path: [field],
          input: args[field],
          message: `expected no top-level ${field} next to 'tasks': put it inside each task`,
        });
      }
      const maxBatchSize = settings.maxBatchSize();
      if (args.tasks.length > maxBatchSize) {
        context.addIssue({
          code: 'custom',
          path: ['tasks'],
          input: args.tasks,
          message: `expected at most ${maxBatchSize} tasks per call, got ${args.tasks.length}: ${batchWaysOut({
            maxBatchSize,
            maxBackground: settings.runtime.options.maxBackground,
          })}`,
        });
      }
      args.tasks.forEach((task, index) => checkAgentType(task.agent_type, ['tasks', index, 'agent_type']));
    });
}

type TaskArguments = z.output<ReturnType<typeof taskSchema>>;

function toDelegateTask(task: Partial<TaskArguments> & { goal: string }): DelegateTask {
  return {
    goal: task.goal,
    ...(task.context !== undefined ? { context: task.context } : {}),
    ...(task.toolsets !== undefined ? { toolsets: task.toolsets } : {}),
    ...(task.role !== undefined ? { role: task.role } : {}),
    ...(task.agent_type !== undefined ? { agentType: task.agent_type } : {}),
    ...(task.model !== undefined ? { model: task.model } : {}),
  };
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

function outcomeView(outcome: DelegationOutcome) {
  return { delegationId: outcome.delegationId, background: false, results: outcome.results.map(resultView) };
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
export function createDelegateTaskTool(settings: AgentToolsSettings): Tool<ReturnType<typeof parserFor>, unknown> {
  const { runtime } = settings;
  return defineDynamicTool({
    name: 'delegate_task',
    toolset: DELEGATION_TOOLSET,
    parameters: parserFor(settings),
    advertised: advertisedSchema(),
    describe: (caller) => describeDelegateTask(delegationFacts(settings, caller)),
    execute: async (args, context) => {
      const caller = context.handleId;
      const depth = callerDepth(runtime, caller, context.depth);
      if (depth >= runtime.limits.maxSpawnDepth) {
        throw new AgentToolError('depth_limit', null, nestingClause(delegationFacts(settings, { handleId: caller, depth })));
      }
      const background = args.background ?? false;
      const { activeBackground } = runtime;
      const { maxBackground } = runtime.options;
      if (background && activeBackground >= maxBackground) {
        throw new AgentToolError(
          'background_limit',
          'background',
          `Expected \`background\` to be false now: ${activeBackground} background delegations are running, the most allowed (${maxBackground}). ` +
            'Wait for one to finish (its result arrives as a message), or call again without background to wait for this one.',
        );
      }
      let request: { tasks: DelegateTask[] } | DelegateTask;
      if (args.tasks !== undefined) request = { tasks: args.tasks.map(toDelegateTask) };
      else if (args.goal !== undefined) request = toDelegateTask({ ...args, goal: args.goal });
      else throw new BadArgumentError('goal', "a goal (one task) or 'tasks' (a batch)", undefined);
      if (background) {
        const started = runtime.delegate({ ...request, background: true, parentId: caller, deliverToAgent: true });
        return {
          background: true,
          delegationId: started.delegationId,
          handleIds: started.handleIds,
          note:
            `Started ${started.handleIds.length} subagent${started.handleIds.length === 1 ? '' : 's'} in the background. ` +
            'The combined result will arrive later as a message; keep working meanwhile. wait_agent, agent_status, ' +
            'interrupt_agent and close_agent take these handle ids.',
        };
      }
      // The tool's signal stops the delegation too: its children are cancelled, later slices never start.
      const pending = runtime.delegate({ ...request, background: false, parentId: caller, signal: context.signal }).result;
      const waiting = abortable(pending, context.signal);
      // Waiting for its own children is not being stale.
      const outcome = await (context.waitingFor ? context.waitingFor(waiting) : waiting);
      return outcomeView(outcome);
    },
  });
}
