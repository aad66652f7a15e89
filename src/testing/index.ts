/**
 * `subagents/testing`: a fake OpenAI-compatible server to test delegation flows
 * over real HTTP, scripted per request.
 */
export { startFakeServer } from './fake-server.js';
export { reply } from './replies.js';
export { quirks } from './quirks.js';
export type { QuirkToolCall, QuirkUsage } from './quirks.js';
export { describeConversation, scriptByConversation } from './conversation.js';
export { messageText } from './messages.js';
export type { MessageReplyOptions, StatusReplyOptions, ToolCallReplyOptions } from './replies.js';
export type { ConversationTurn, ToolResult } from './conversation.js';
export type {
  ChatContentPart,
  ChatMessageToolCall,
  ChatRequestBody,
  ChatRequestMessage,
  ChatRequestTool,
  CutFault,
  CutMidChunkFault,
  FakeServer,
  FakeServerOptions,
  HangFault,
  MalformedFault,
  MessageReply,
  RawReply,
  RecordedRequest,
  Reply,
  ResetFault,
  Script,
  ScriptedToolCall,
  ScriptedUsage,
  ScriptFunction,
  SlowLorisFault,
  StatusFault,
} from './types.js';
export { checkLifecycle } from './check-lifecycle.js';
export type { CheckLifecycleOptions, LifecycleCheckReport, LifecycleInvariant, LifecycleInvariantContext } from './check-lifecycle.js';
export { LIFECYCLE_STEPS, expectLifecycle, formatLifecyclePath, initialLifecycleState, lifecycleLogic, lifecycleStep } from './lifecycle-model.js';
export type { LifecycleExpectation, LifecyclePath, LifecycleState, LifecycleStep } from './lifecycle-model.js';
export { lifecyclePaths } from './lifecycle-paths.js';
export type { LifecyclePathsOptions } from './lifecycle-paths.js';
export { initialOracleState, oracleStep } from './handle-spec.js';
export type { ModelEvent, OracleSpec, OracleState, OracleStep } from './handle-spec.js';
export { LifecycleCheckError } from '../errors.js';
export { checkDelegationFlows } from './check-delegation-flows.js';
export type { CheckDelegationFlowsOptions, DelegationFlowsReport } from './check-delegation-flows.js';
export type { FlowCall, FlowTool } from './flow-calls.js';
export { DelegationFlowCheckError } from '../errors.js';
