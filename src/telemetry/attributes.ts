/**
 * The attribute names the spans carry: the OpenTelemetry semantic
 * conventions for generative AI (version {@link GEN_AI_SEMCONV_VERSION},
 * status Development), plus a few of the library's own under `subagents.`.
 */

/** The version of the OpenTelemetry GenAI semantic conventions the spans follow. */
export const GEN_AI_SEMCONV_VERSION = '1.38.0';

export const ATTR = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  conversationId: 'gen_ai.conversation.id',
  toolName: 'gen_ai.tool.name',
  toolType: 'gen_ai.tool.type',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  // The library's own: where a run sits in the subagent tree, and how it ended.
  parentId: 'subagents.parent_id',
  depth: 'subagents.depth',
  agentType: 'subagents.agent_type',
  runId: 'subagents.run_id',
  outcome: 'subagents.outcome',
  apiCalls: 'subagents.api_calls',
} as const;

/** The `gen_ai.operation.name` values used. */
export const OPERATION = { invokeAgent: 'invoke_agent', chat: 'chat', executeTool: 'execute_tool' } as const;

/** One text message in the conventions' message shape, as a JSON string (the attribute holds structured JSON). */
export function messagesJson(role: 'user' | 'assistant', text: string): string {
  return JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);
}

/** `server.address` and `server.port` of a client's base URL, when it has one; never credentials or path. */
export function serverAttributes(client: unknown): Record<string, string | number> {
  const baseURL = typeof client === 'object' && client !== null ? (client as { baseURL?: unknown }).baseURL : undefined;
  if (typeof baseURL !== 'string') return {};
  try {
    const url = new URL(baseURL);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : null) : Number(url.port);
    return { [ATTR.serverAddress]: url.hostname, ...(port === null ? {} : { [ATTR.serverPort]: port }) };
  } catch {
    return {};
  }
}
