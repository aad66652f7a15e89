/**
 * Runs a model's tool calls by name and JSON arguments, answering every one,
 * success or failure, with a JSON string the model can read. Nothing a model
 * sends makes it throw, and a call that fails has changed nothing: arguments
 * are checked in full before any tool touches the runtime.
 */
import { BadArgumentError, describeValue } from '../errors.js';
import { callerDepth } from './agent-tool-settings.js';
import type { AgentToolsRuntime } from './agent-tool-settings.js';
import { parseToolArguments } from './define-tool.js';
import type { AnyTool, OpenAIFunctionTool, ToolContext } from './define-tool.js';
import { toolDefinitionsFor } from './dynamic-tool.js';
import { errorPayloadOf, failureJson, successJson } from './tool-result.js';
import { createToolRegistry } from './toolsets.js';

/** Longest arguments string parsed, in characters; longer ones are refused unread. */
export const MAX_ARGUMENTS_LENGTH = 4_000_000;

/** Who calls, and the run they call from. */
export interface ToolDispatcherOptions {
  /** The calling handle; `null` for the root agent. */
  handleId: string | null;
  /** The caller's depth. @default read from the runtime (0 for the root agent) */
  depth?: number;
  /** Fires when the caller's run is stopped; tools stop waiting then. @default never fires */
  signal?: AbortSignal;
}

/** Runs one call: `{"ok":true,…}` or `{"ok":false,"error":{"code","message","field"?}}`; never throws. */
export interface ToolDispatcher {
  (name: string, argumentsJson: string): Promise<string>;
  /** The definitions of the dispatcher's tools for its caller, computed now. */
  definitions(): OpenAIFunctionTool[];
}

/**
 * Creates a dispatcher for one caller over a list of tools (the agent tools,
 * your own, or both).
 *
 * @throws {BadArgumentError} when two tools share a name or an option is invalid.
 * @example
 * ```ts
 * const dispatch = createToolDispatcher(runtime, createAgentTools(runtime), { handleId: null });
 * const text = await dispatch(call.function.name, call.function.arguments);
 * // '{"ok":false,"error":{"code":"bad_argument","message":"…","field":"goal"}}'
 * ```
 */
export function createToolDispatcher(
  runtime: Pick<AgentToolsRuntime, 'get'>,
  tools: readonly AnyTool[],
  options: ToolDispatcherOptions,
): ToolDispatcher {
  const registry = createToolRegistry(tools);
  const { handleId, signal = new AbortController().signal } = options;
  if (handleId !== null && typeof handleId !== 'string') throw new BadArgumentError('handleId', 'a handle id or null', handleId);
  if (options.depth !== undefined && !(Number.isInteger(options.depth) && options.depth >= 0)) {
    throw new BadArgumentError('depth', 'an integer >= 0', options.depth);
  }
  const depth = options.depth ?? callerDepth(runtime, handleId);
  const context: ToolContext = { signal, handleId, depth };

  const dispatch = async (name: string, argumentsJson: string): Promise<string> => {
    try {
      const tool = typeof name === 'string' ? registry.get(name) : undefined;
      if (!tool) {
        const available = registry.tools.map((each) => each.name);
        return failureJson({
          code: 'unknown_tool',
          field: 'name',
          message:
            `Expected \`name\` to be one of your tools (${available.join(', ') || 'none'}), ` +
            `got ${typeof name === 'string' ? `\`${name.slice(0, 100)}\`` : describeValue(name)}.`,
        });
      }
      if (typeof argumentsJson !== 'string') {
        return failureJson({
          code: 'bad_argument',
          field: ARGUMENTS,
          message: `Expected \`${ARGUMENTS}\` to be a string holding one JSON object, got ${describeValue(argumentsJson)}.`,
        });
      }
      if (argumentsJson.length > MAX_ARGUMENTS_LENGTH) {
        return failureJson({
          code: 'bad_argument',
          field: ARGUMENTS,
          message: `Expected \`${ARGUMENTS}\` of at most ${MAX_ARGUMENTS_LENGTH} characters, got ${argumentsJson.length}: send less text.`,
        });
      }
      const notJson = jsonProblem(argumentsJson);
      if (notJson !== null) {
        return failureJson({
          code: 'bad_argument',
          field: ARGUMENTS,
          message: `Expected \`${ARGUMENTS}\` of \`${tool.name}\` to be one JSON object matching its parameters; they are not valid JSON (${notJson}).`,
        });
      }
      if (signal.aborted) return failureJson(errorPayloadOf(signal.reason));
      const parsed = parseToolArguments(tool, argumentsJson);
      if (!parsed.ok) return failureJson({ code: 'bad_argument', field: firstField(parsed.error), message: parsed.error });
      return successJson(await tool.execute(parsed.args, context));
    } catch (error) {
      return failureJson(errorPayloadOf(error));
    }
  };
  return Object.assign(dispatch, { definitions: () => toolDefinitionsFor(registry.tools, { handleId, depth }) });
}

/** How the arguments as a whole are named in errors (as `parseToolArguments` names them). */
const ARGUMENTS = '(arguments)';

/** Why a text is not JSON, or `null` when it is (an empty text counts as `{}`, as `parseToolArguments` takes it). */
function jsonProblem(text: string): string | null {
  if (text.trim() === '') return null;
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The first field `parseToolArguments` names (its lines read "- `path`: problem"); the whole arguments otherwise. */
function firstField(message: string): string {
  return /^- `(.+?)`: /m.exec(message)?.[1] ?? ARGUMENTS;
}
