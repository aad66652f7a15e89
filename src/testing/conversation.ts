/**
 * A script written as a function of the conversation so far, which stays
 * deterministic however many agents call the server at once.
 */
import { messageText } from './messages.js';
import type { ChatRequestMessage, RecordedRequest, Reply, ScriptFunction } from './types.js';

/** A tool result the client sent back (a `tool` message after the last assistant message). */
export interface ToolResult {
  toolCallId: string;
  /** The name of the tool, found from the assistant message that called it. */
  name: string | undefined;
  content: string;
}

/** What {@link scriptByConversation} tells the deciding function about one request. */
export interface ConversationTurn {
  request: RecordedRequest;
  messages: ChatRequestMessage[];
  /** The role of the last message: `'user'` for a new input, `'tool'` after tool results. */
  lastRole: string | undefined;
  /** The tool results since the last assistant message, in order. */
  toolResults: ToolResult[];
  /** The text of the last user message, or `''`. */
  lastUserText: string;
  /** The text of the first system or developer message, or `''`: tells agents apart. */
  systemText: string;
  /** How many assistant messages the conversation already holds. */
  assistantTurns: number;
  /** The names of the tools offered. */
  toolNames: string[];
}

/**
 * A script deciding each reply from the conversation in the request.
 *
 * @example
 * ```ts
 * // First turn: delegate. After the tool result: answer with it.
 * const script = scriptByConversation((turn) =>
 *   turn.lastRole === 'tool'
 *     ? reply.text(`Done: ${turn.toolResults[0]?.content ?? ''}`)
 *     : reply.toolCall('delegate_task', { goal: turn.lastUserText }),
 * );
 * const server = await startFakeServer({ script });
 * ```
 */
export function scriptByConversation(decide: (turn: ConversationTurn) => Reply | Promise<Reply>): ScriptFunction {
  return (request) => decide(describeConversation(request));
}

/**
 * The {@link ConversationTurn} of a request, for scripts that need more than
 * {@link scriptByConversation} gives.
 *
 * @example
 * ```ts
 * server.onRequest((request) => {
 *   const { lastRole, toolResults } = describeConversation(request);
 *   if (lastRole === 'tool') console.log('tool results', toolResults);
 * });
 * ```
 */
export function describeConversation(request: RecordedRequest): ConversationTurn {
  const { messages } = request.body;
  let lastUserText = '';
  let systemText: string | undefined;
  let assistantTurns = 0;
  let lastAssistant = -1;
  messages.forEach((message, position) => {
    if (message.role === 'user') lastUserText = messageText(message);
    else if (message.role === 'assistant') {
      assistantTurns += 1;
      lastAssistant = position;
    } else if (systemText === undefined && (message.role === 'system' || message.role === 'developer')) {
      systemText = messageText(message);
    }
  });
  const calls = messages[lastAssistant]?.tool_calls ?? [];
  const toolResults = messages
    .slice(lastAssistant + 1)
    .filter((message) => message.role === 'tool')
    .map((message) => ({
      toolCallId: message.tool_call_id ?? '',
      name: calls.find((call) => call.id === message.tool_call_id)?.function.name,
      content: messageText(message),
    }));
  return {
    request,
    messages,
    lastRole: messages.at(-1)?.role,
    toolResults,
    lastUserText,
    systemText: systemText ?? '',
    assistantTurns,
    // Only function tools have a name under `function`; other kinds are skipped.
    toolNames: (request.body.tools ?? []).flatMap((tool) => (tool.function?.name ? [tool.function.name] : [])),
  };
}
