/**
 * The public API of `subagents`. Every value exported here is deliberate;
 * everything else is internal and may change without notice.
 */

// The factory and the model-backed run strategy.
export { createRuntime } from './agent/create-runtime.js';
export { modelRun } from './runtime/model-run.js';
export type { ChatClient, ModelRun, ModelRunOptions, ProviderConfig } from './runtime/model-run.js';
export type {
  AgentRun,
  AgentRunResult,
  CancelResult,
  CloseResult,
  ModelSpawnOptions,
  ResolvedOptions,
  RunContext,
  RunHandleInfo,
  RunProgressEvent,
  Runtime,
  RuntimeBaseOptions,
  RuntimeOptions,
  SendOptions,
  SpawnOptions,
  SubagentsRuntime,
  SubagentStartEvent,
  ShutdownResult,
  SubagentStopEvent,
  WaitOptions,
} from './agent/runtime-api.js';
export type { WaitResult } from './runtime/waiters.js';
export type { AgentAnswer, AgentOptions } from './agent/parent-agent.js';
export type {
  BackgroundDelegation,
  Delegation,
  DelegateRequest,
  DelegateTask,
  DelegationOutcome,
  DelegationResult,
  ExitReason,
  ModelPrice,
  ModelPrices,
} from './delegation/delegation-types.js';
export type { AgentRef, ApprovalRequest, EventsOptions, RuntimeEvent, RuntimeEventType, RuntimeListener, SubagentRef } from './runtime/events.js';
export type { ApprovalAnswer, ApprovalHandler } from './runtime/approvals.js';
export type { LogLevel, Logger } from './logger.js';
export type { TelemetryHooks, TracedAgent, TracedRun, TracedRunEnd, TracedRunStart, TracedToolOutcome, TracedTurn } from './telemetry-hooks.js';

// The handle chart, for model-based tests of your own runs.
export { handleMachine } from './machines/handle.js';
export type { HandleContext, HandleEmitted, HandleEvent, HandleInput, HandleMachine, RunActivity, RunJournal, RunReport, RunRequest, RunResult } from './machines/handle.js';
export type { SupervisorLimits } from './machines/supervisor.js';

// Tools: yours, the file tools, the ten agent tools, and a dispatcher for your own loop.
export { defineTool } from './toolkit/define-tool.js';
export type { AnyTool, ApprovalAsk, ApprovalDecider, ApprovalDecision, NeedsApproval, OpenAIFunctionTool, Tool, ToolConfig, ToolContext } from './toolkit/define-tool.js';
export { DEFAULT_BLOCKED_TOOLS } from './toolkit/toolsets.js';
export { withEvidence } from './toolkit/evidence.js';
export type { ToolResultWithEvidence } from './toolkit/evidence.js';
export { defineAgentType } from './delegation/agent-types.js';
export type { ResultChecks, VerifyResult, VerifyVerdict } from './delegation/checked-result.js';
export type { AgentType } from './delegation/agent-types.js';
export { createAgentTools } from './agent-tools/agent-tools.js';
export type { AgentToolsOptions } from './agent-tools/agent-tools.js';
export { createToolDispatcher } from './agent-tools/dispatch.js';
export type { DispatchCallOptions, ToolDispatcher, ToolDispatcherOptions } from './agent-tools/dispatch.js';
export { createFileTools } from './toolkit/file-tools.js';
export type { FileTools, FileToolsOptions } from './toolkit/file-tools.js';
export { createWriteTools } from './toolkit/write-tools.js';
export type { WriteTools, WriteToolsOptions } from './toolkit/write-tools.js';

// The MCP server: delegate_task and the handle tools for MCP clients (needs the optional peer @modelcontextprotocol/sdk).
// These servers, the view and the workers load their code on their first call, not when the package is imported.
/** Serves `delegate_task` and the handle tools to the MCP client on stdio: see `McpStdioOptions`. */
export const serveMcpStdio = loadedOnCall(async () => (await import('./mcp/serve-stdio.js')).serveMcpStdio);
export type { McpStdioOptions, McpStdioServer } from './mcp/serve-stdio.js';
/** Starts the MCP server over Streamable HTTP on 127.0.0.1: see `McpHttpOptions`. */
export const startMcpHttpServer = loadedOnCall(async () => (await import('./mcp/serve-http.js')).startMcpHttpServer);
export type { McpHttpOptions, McpHttpServer } from './mcp/serve-http.js';
export type { McpSessionOptions } from './mcp/options.js';
/** Serves the local web view of a runtime's tree: see `ViewOptions`. */
export const serveView = loadedOnCall(async () => (await import('./view/serve-view.js')).serveView);
export type { ViewOptions, ViewServer } from './view/serve-view.js';

// Durability: where a runtime keeps its state so a new process can restore it.
export { fileStore, memoryStore } from './store/index.js';
export type { FileStoreOptions, Store, StoreContents, StorePatch, StorePath, SyncPolicy } from './store/index.js';

// Scaling out: runs on workers over Redis (needs the optional peers bullmq and ioredis).
export { bullmqExecutor } from './distributed/bullmq-executor.js';
export type { BullmqExecutorOptions } from './distributed/bullmq-executor.js';
/** A worker process's side of `bullmqExecutor`: takes runs from the queue and runs them: see `WorkerOptions`. */
export const createWorker = loadedOnCall(async () => (await import('./distributed/worker.js')).createWorker);
export type { SubagentsWorker, WorkerOptions } from './distributed/worker.js';
/** A store kept in Redis, for runtimes whose runs go to workers: see `RedisStoreOptions`. */
export const redisStore = loadedOnCall(async () => (await import('./distributed/redis-store.js')).redisStore);
export type { RedisStore, RedisStoreOptions } from './distributed/redis-store.js';
export type { RedisConnection } from './distributed/protocol.js';
export type { RunExecutor } from './runtime/executor.js';

// Inspection.
export { sanitizeInspectionObserver } from './runtime/inspection.js';
export type { InspectionSanitizeOptions, InspectionObserver } from './runtime/inspection.js';

// Errors.
export {
  SubagentsError,
  UnknownHandleError,
  HandleClosedError,
  DepthLimitError,
  SpawningPausedError,
  BackgroundLimitError,
  BadArgumentError,
  BatchSizeError,
  RuntimeShutDownError,
  HandleStateError,
  ModelOutputError,
  ModelRequestError,
  StoreLockedError,
  StoreCorruptError,
  ConversationTooLongError,
  McpSdkMissingError,
  RedisPackagesMissingError,
  WorktreeError,
} from './errors.js';
export type { ModelOutputReason } from './errors.js';
export { BudgetRefusedError, BudgetExceededError } from './budget-errors.js';
export type { BudgetDimension } from './budget-errors.js';
export { AgentToolError } from './toolkit/tool-error.js';

export type {
  AwaitingApproval,
  Budget,
  BudgetView,
  ChatMessage,
  ChatToolCall,
  HandBackReason,
  HandleSetup,
  HandleSnapshot,
  HandleStatus,
  Isolation,
  JsonValue,
  OnParentStop,
  QueuedInput,
  Role,
  RunDetails,
  RunLimits,
  RunOutcome,
  RunProgress,
  RunStats,
  ToolTraceEntry,
  Evidence,
  SchemaError,
  Usage,
  WorktreeReport,
} from './types.js';

/** `load`'s function, imported on the first call: an async function whose module the package's import leaves out. */
function loadedOnCall<Args extends unknown[], Result>(load: () => Promise<(...args: Args) => Promise<Result>>): (...args: Args) => Promise<Result> {
  return async (...args) => (await load())(...args);
}
