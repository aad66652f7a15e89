export { createCoreRuntime as createRuntime } from './runtime/runtime.js';
export type {
  AgentRun,
  AgentRunResult,
  CancelResult,
  CloseResult,
  CoreRuntimeOptions as RuntimeOptions,
  RunContext,
  RunHandleInfo,
  RunProgressEvent,
  Runtime,
  SendOptions,
  SpawnOptions,
  SubagentStartEvent,
  SubagentStopEvent,
  WaitOptions,
} from './runtime/runtime.js';
export type { WaitResult } from './runtime/waiters.js';
export type { RuntimeEvent, RuntimeEventType, RuntimeListener, SubagentRef } from './runtime/events.js';
export { handleMachine } from './machines/handle.js';
export type { HandleContext, HandleEvent, HandleInput, HandleMachine, RunRequest, RunResult } from './machines/handle.js';
export { supervisorMachine, DEFAULT_LIMITS } from './machines/supervisor.js';
export type { SupervisorContext, SupervisorEvent, SupervisorLimits, SupervisorMachine } from './machines/supervisor.js';
export {
  SubagentsError,
  UnknownHandleError,
  HandleClosedError,
  DepthLimitError,
  SpawningPausedError,
  BackgroundLimitError,
  BadArgumentError,
  RuntimeShutDownError,
  RunTimeoutError,
} from './errors.js';
export type { HandleSnapshot, HandleStatus, QueuedInput, Role, RunOutcome, Usage } from './types.js';
