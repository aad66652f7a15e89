/**
 * Runs a model's tool calls by name and JSON arguments, answering every one,
 * success or failure, with a JSON string the model can read. Nothing a model
 * sends makes it throw, and a call that fails has changed nothing: arguments
 * are checked in full before any tool touches the runtime.
 */
import { BadArgumentError } from '../errors.js';
import { callerDepth } from './agent-tool-settings.js';
import type { AgentToolsRuntime } from './agent-tool-settings.js';
import type { DelegatingRuntime } from '../delegation/delegating-runtime.js';
import type { AnyTool, OpenAIFunctionTool, ToolContext } from '../toolkit/define-tool.js';
import { toolDefinitionsFor } from '../toolkit/dynamic-tool.js';
import { executeToolCall } from '../toolkit/execute.js';
import { failureJson } from '../tool-failure.js';
import { successJson } from '../toolkit/tool-result.js';
import { createToolRegistry } from '../toolkit/toolsets.js';
import { telemetryOf } from '../telemetry-hooks.js';

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

/** What one call may add: its id (for tracing) and a signal of its own. */
export interface DispatchCallOptions {
  /** The model's id for the call, recorded on its span when the runtime traces. */
  callId?: string;
  /** Fires when this call should stop (with the dispatcher's own signal, whichever fires first). */
  signal?: AbortSignal;
}

/** Runs one call: `{"ok":true,…}` or `{"ok":false,"error":{"code","message","field"?}}`; never throws. */
export interface ToolDispatcher {
  (name: string, argumentsJson: string, options?: DispatchCallOptions): Promise<string>;
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
  runtime: Pick<AgentToolsRuntime, 'get' | 'workingDirectory'> & Partial<Pick<DelegatingRuntime, 'requestApproval'>>,
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
  const { requestApproval } = runtime;
  // Calls that need approval reach the runtime's host, their wait ended by the call's signal; without a runtime behind the dispatcher they are denied.
  const asking = (stop: AbortSignal): Pick<ToolContext, 'requestApproval'> =>
    requestApproval ? { requestApproval: (ask) => requestApproval(handleId, ask, stop) } : {};
  const context: ToolContext = { signal, handleId, depth, cwd: options.cwd ?? runtime.workingDirectory(handleId), ...asking(signal) };

  // A runtime created with `telemetry` traces the calls made here too: one span each, the work inside it.
  const telemetry = telemetryOf(runtime);
  const dispatch = async (name: string, argumentsJson: string, options?: DispatchCallOptions): Promise<string> => {
    const call: DispatchCallOptions = typeof options === 'object' && options !== null ? options : {};
    const callSignal = call.signal instanceof AbortSignal ? call.signal : undefined;
    const callStop = callSignal ? AbortSignal.any([signal, callSignal]) : null;
    const callContext = callStop ? { ...context, signal: callStop, ...asking(callStop) } : context;
    const execute = () => executeToolCall(registry, name, argumentsJson, callContext);
    const callId = typeof call.callId === 'string' ? call.callId : null;
    const outcome = await (telemetry ? telemetry.toolCall({ callId, tool: String(name), argumentsJson }, execute) : execute());
    return outcome.ok ? successJson(outcome.result) : failureJson(outcome.error);
  };
  return Object.assign(dispatch, { definitions: () => toolDefinitionsFor(registry.tools, { handleId, depth }) });
}
