// Runtime
export { createRuntime } from './runtime/create-runtime.js';
export type { ModelSpawnOptions, RuntimeOptions, SubagentsRuntime } from './runtime/create-runtime.js';
export { createCoreRuntime } from './runtime/runtime.js';
export type {
  AgentRun,
  AgentRunResult,
  CancelResult,
  CloseResult,
  CoreRuntime,
  CoreRuntimeOptions,
  RunContext,
  RunHandleInfo,
  RunProgressEvent,
  Runtime,
  SendOptions,
  SpawnOptions,
  SubagentStartEvent,
  ShutdownResult,
  SubagentStopEvent,
  WaitOptions,
} from './runtime/runtime.js';
export type { WaitResult } from './runtime/waiters.js';
export type { AgentAnswer, AgentOptions } from './runtime/parent-agent.js';
export type {
  BackgroundDelegation,
  Delegation,
  DelegateRequest,
  DelegateTask,
  DelegationOutcome,
  DelegationResult,
  ExitReason,
  ModelPrices,
} from './runtime/delegation-types.js';
export type { EventsOptions, RuntimeEvent, RuntimeEventType, RuntimeListener, SubagentRef } from './runtime/events.js';
export type { ChatClient } from './runtime/model-loop.js';
export { buildChildSystemPrompt } from './runtime/prompts.js';
export { consoleLogger } from './runtime/logger.js';
export type { LogLevel, Logger } from './runtime/logger.js';

// Machines
export { handleMachine } from './machines/handle.js';
export type { HandleContext, HandleEmitted, HandleEvent, HandleInput, HandleMachine, RunJournal, RunReport, RunRequest, RunResult } from './machines/handle.js';
export { supervisorMachine, DEFAULT_LIMITS, SupervisorBook } from './machines/supervisor.js';
export type { SupervisorContext, SupervisorEvent, SupervisorLimits, SupervisorMachine, SupervisorBookJSON, TreeEntry, ParentLoad } from './machines/supervisor.js';

// Tools
export { defineTool, toOpenAITool } from './tools/define-tool.js';
export { parseToolArguments, toolResultToString } from './tools/tool-arguments.js';
export type { AnyTool, OpenAIFunctionTool, Tool, ToolContext } from './tools/define-tool.js';
export { createToolRegistry, resolveChildTools, DEFAULT_BLOCKED_TOOLS, DELEGATION_TOOLSET } from './tools/toolsets.js';
export type { ChildTools, ToolRegistry } from './tools/toolsets.js';
export { defineAgentType, resolveAgentType, BUILT_IN_AGENT_TYPES } from './tools/agent-types.js';
export type { AgentType } from './tools/agent-types.js';
export { createAgentTools, agentToolDefinitions, AGENT_TOOL_NAMES } from './tools/agent-tools.js';
export type { AgentToolsOptions } from './tools/agent-tools.js';
export { createToolDispatcher } from './tools/dispatch.js';
export type { ToolDispatcher, ToolDispatcherOptions } from './tools/dispatch.js';
export { toolDefinitionsFor } from './tools/dynamic-tool.js';
export { createFileTools } from './tools/file-tools.js';
export type { FileTools, FileToolsOptions } from './tools/file-tools.js';

// Inspection
export {
  sanitizeInspectionObserver,
  sanitizeInspectionEvent,
  sanitizeInspectionValue,
  redactSecrets,
  REDACTED,
} from './runtime/inspection.js';
export type { InspectionSanitizeOptions, InspectionObserver } from './runtime/inspection.js';

// Errors
export {
  SubagentsError,
  UnknownHandleError,
  HandleClosedError,
  DepthLimitError,
  SpawningPausedError,
  BackgroundLimitError,
  BadArgumentError,
  RuntimeShutDownError,
  HandleStateError,
  ModelOutputError,
  ModelRequestError,
} from './errors.js';
export type { ModelOutputReason } from './errors.js';
export { AgentToolError } from './tools/tool-error.js';

export { STATUS_AFTER_OUTCOME } from './types.js';
export type {
  ChatMessage,
  ChatToolCall,
  HandBackReason,
  HandleSnapshot,
  HandleStatus,
  QueuedInput,
  Role,
  RunLimits,
  RunOutcome,
  RunStats,
  ToolTraceEntry,
  Usage,
} from './types.js';
