/**
 * Runs a model's tool calls by name and JSON arguments, answering every one,
 * success or failure, with a JSON string the model can read. Nothing a model
 * sends makes it throw, and a call that fails has changed nothing: arguments
 * are checked in full before any tool touches the runtime.
 */
import { BadArgumentError } from '../errors.js';
import { callerDepth } from './agent-tool-settings.js';
import type { AgentToolsRuntime } from './agent-tool-settings.js';
import type { AnyTool, OpenAIFunctionTool, ToolContext } from '../toolkit/define-tool.js';
import { toolDefinitionsFor } from '../toolkit/dynamic-tool.js';
import { executeToolCall } from '../toolkit/execute.js';
import { failureJson } from '../tool-failure.js';
import { successJson } from '../toolkit/tool-result.js';
import { createToolRegistry } from '../toolkit/toolsets.js';

export { MAX_ARGUMENTS_LENGTH } from '../toolkit/execute.js';

/** Who calls, and the run they call from. */
export interface ToolDispatcherOptions {
  /** The calling handle; `null` for the root agent. */
  handleId: string | null;
  /** The caller's depth. @default read from the runtime (0 for the root agent) */
  depth?: number;
  /** Fires when the caller's run is stopped; tools stop waiting then. @default never fires */
  signal?: AbortSignal;
  /** The caller's working directory, given to tools as `ToolContext.cwd`. @default the runtime's for the caller */
  cwd?: string;
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
  runtime: Pick<AgentToolsRuntime, 'get' | 'workingDirectory'>,
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
  if (options.cwd !== undefined && typeof options.cwd !== 'string') throw new BadArgumentError('cwd', 'a directory path', options.cwd);
  const context: ToolContext = { signal, handleId, depth, cwd: options.cwd ?? runtime.workingDirectory(handleId) };

  const dispatch = async (name: string, argumentsJson: string): Promise<string> => {
    const outcome = await executeToolCall(registry, name, argumentsJson, context);
    return outcome.ok ? successJson(outcome.result) : failureJson(outcome.error);
  };
  return Object.assign(dispatch, { definitions: () => toolDefinitionsFor(registry.tools, { handleId, depth }) });
}
