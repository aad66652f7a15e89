/**
 * `subagents/testing`: a fake OpenAI-compatible server to test delegation flows
 * over real HTTP, scripted per request.
 */
export { startFakeServer } from './fake-server.js';
export { reply } from './replies.js';
export { describeConversation, scriptByConversation } from './conversation.js';
export { messageText } from './messages.js';
export type { MessageReplyOptions, ToolCallReplyOptions } from './replies.js';
export type { ConversationTurn, ToolResult } from './conversation.js';
export type {
  ChatContentPart,
  ChatMessageToolCall,
  ChatRequestBody,
  ChatRequestMessage,
  ChatRequestTool,
  CutFault,
  FakeServer,
  FakeServerOptions,
  HangFault,
  MalformedFault,
  MessageReply,
  RecordedRequest,
  Reply,
  Script,
  ScriptedToolCall,
  ScriptedUsage,
  ScriptFunction,
  StatusFault,
} from './types.js';
