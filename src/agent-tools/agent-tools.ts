/**
 * The LLM-facing tools over a runtime, all in the `delegation` toolset:
 * `delegate_task` and the operator tools over handles. Their descriptions
 * are computed each time a definition is requested.
 */
import { callerDepth, resolveAgentToolsSettings } from './agent-tool-settings.js';
import type { AgentToolsOptions, AgentToolsRuntime } from './agent-tool-settings.js';
import { createAgentStatusTool } from './agent-status.js';
import { createCloseAgentTool } from './close-agent.js';
import type { AnyTool, OpenAIFunctionTool } from '../toolkit/define-tool.js';
import { createDelegateTaskTool } from './delegate-task.js';
import { toolDefinitionsFor } from '../toolkit/dynamic-tool.js';
import { createInterruptAgentTool } from './interrupt-agent.js';
import { createListAgentsTool } from './list-agents.js';
import { createResumeAgentTool } from './resume-agent.js';
import { createSendInputTool } from './send-input.js';
import { createSpawnAgentTool } from './spawn-agent.js';
import { createWaitAgentTool } from './wait-agent.js';
import { createExtendDeadlineTool } from './extend-deadline.js';

export type { AgentToolsOptions, AgentToolsRuntime } from './agent-tool-settings.js';

/** The names of the agent tools, in the order {@link createAgentTools} returns them. */
export const AGENT_TOOL_NAMES = [
  'delegate_task',
  'spawn_agent',
  'send_input',
  'wait_agent',
  'interrupt_agent',
  'close_agent',
  'resume_agent',
  'list_agents',
  'agent_status',
  'extend_deadline',
] as const;

/**
 * Creates the ten agent tools over `runtime`. Each acts for the agent that
 * calls it (`context.handleId`, `null` for the root agent) and only on the
 * subagents that agent spawned. The tools read the runtime's limits when a
 * definition is requested (`tool.description`, `tool.jsonSchema`,
 * {@link agentToolDefinitions}), never once at creation.
 *
 * @throws {BadArgumentError} when an option is invalid.
 * @example
 * ```ts
 * const tools = createAgentTools(runtime, { maxBatchSize: 5 });
 * const dispatch = createToolDispatcher(runtime, tools, { handleId: null });
 * await dispatch('delegate_task', '{"goal":"Summarise README.md"}');
 * ```
 */
export function createAgentTools(runtime: AgentToolsRuntime, options: AgentToolsOptions = {}): AnyTool[] {
  const settings = resolveAgentToolsSettings(runtime, options);
  return [
    createDelegateTaskTool(settings),
    createSpawnAgentTool(settings),
    createSendInputTool(settings),
    createWaitAgentTool(settings),
    createInterruptAgentTool(settings),
    createCloseAgentTool(settings),
    createResumeAgentTool(settings),
    createListAgentsTool(settings),
    createAgentStatusTool(settings),
    createExtendDeadlineTool(settings),
  ];
}

/** Who the definitions are for, and which tools. */
export interface AgentToolDefinitionsOptions {
  /** The calling handle; `null` for the root agent. */
  handleId: string | null;
  /** The caller's depth. @default read from the runtime (0 for the root agent) */
  depth?: number;
  /** The tools to define, agent tools or any other. @default createAgentTools(runtime), made once per runtime */
  tools?: readonly AnyTool[];
}

const defaultTools = new WeakMap<AgentToolsRuntime, readonly AnyTool[]>();

/**
 * OpenAI function definitions for the caller, computed now: `delegate_task`
 * states the limits configured at this moment and what the caller's depth
 * allows; other tools pass through `toOpenAITool`.
 *
 * @example
 * ```ts
 * const tools = agentToolDefinitions(runtime, { handleId: 'sa_1' });
 * await client.chat.completions.create({ model, messages, tools });
 * ```
 */
export function agentToolDefinitions(runtime: AgentToolsRuntime, options: AgentToolDefinitionsOptions): OpenAIFunctionTool[] {
  let tools = options.tools;
  if (tools === undefined) {
    tools = defaultTools.get(runtime) ?? createAgentTools(runtime);
    defaultTools.set(runtime, tools);
  }
  const depth = options.depth ?? callerDepth(runtime, options.handleId);
  return toolDefinitionsFor(tools, { handleId: options.handleId, depth });
}
