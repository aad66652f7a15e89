/**
 * What the framework adapters share: the runtime's agent tools as the root
 * agent sees them. Each keeps its own definition (the JSON Schema of its zod
 * schema, and a description stating the limits configured now, computed at
 * every read) and runs through the one dispatcher, so a framework's agent
 * gets the same checks, limits and error format as the built-in loop, and is
 * the parent (`parentId: null`) of what it delegates.
 */
import { BadArgumentError } from '../errors.js';
import { AGENT_TOOL_NAMES, createAgentTools } from '../agent-tools/agent-tools.js';
import type { AgentToolsOptions } from '../agent-tools/agent-tools.js';
import { createToolDispatcher } from '../agent-tools/dispatch.js';
import type { Runtime } from '../agent/runtime-api.js';
import type { JsonSchema } from '../toolkit/define-tool.js';

/** The name of one of the ten agent tools. */
export type AgentToolName = (typeof AGENT_TOOL_NAMES)[number];

/** Options of the framework adapters. */
export interface AdapterOptions extends AgentToolsOptions {
  /** Which agent tools to give the framework's agent, in this order. @default all ten */
  tools?: readonly AgentToolName[];
}

/** One agent tool, ready to wrap in a framework's tool type. */
export interface AdaptedTool {
  readonly name: AgentToolName;
  /** Whether the schema fits OpenAI's strict function calling. */
  readonly strict: boolean;
  /** The description for the root agent, with the limits configured now. */
  description(this: void): string;
  /** The JSON Schema of the arguments, for the root agent (a fresh copy each call). */
  parameters(this: void): JsonSchema;
  /** Runs a call; resolves with the JSON text the model reads (`{"ok":false,…}` on failure), never rejects. */
  call(this: void, argumentsJson: string, call: { callId?: string | undefined; signal?: AbortSignal | undefined }): Promise<string>;
}

/**
 * The runtime's agent tools for a framework's agent, acting as the root
 * agent (depth 0).
 *
 * @throws {BadArgumentError} when `runtime` is not a runtime or an option is invalid.
 */
export function adaptAgentTools(runtime: Runtime, options: AdapterOptions = {}): AdaptedTool[] {
  if (typeof runtime !== 'object' || runtime === null || typeof (runtime as Partial<Runtime>).delegate !== 'function') {
    throw new BadArgumentError('runtime', 'a runtime from createRuntime()', runtime);
  }
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object', options);
  const { tools: names = AGENT_TOOL_NAMES, ...toolOptions } = options;
  if (!Array.isArray(names) || names.length === 0) throw new BadArgumentError('tools', `a non-empty array of agent tool names (${AGENT_TOOL_NAMES.join(', ')})`, names);
  names.forEach((name: unknown, index) => {
    if (!AGENT_TOOL_NAMES.includes(name as AgentToolName)) throw new BadArgumentError(`tools[${index}]`, `one of ${AGENT_TOOL_NAMES.join(', ')}`, name);
  });
  const all = createAgentTools(runtime, toolOptions);
  const chosen = names.map((name) => all.find((tool) => tool.name === name)!);
  const dispatch = createToolDispatcher(runtime, chosen, { handleId: null, depth: 0 });
  return chosen.map((tool) => ({
    name: tool.name as AgentToolName,
    strict: tool.strict,
    // Dynamic tools compute both for the root agent at every read.
    description: () => tool.description,
    parameters: () => structuredClone(tool.jsonSchema),
    call: (argumentsJson, call) => dispatch(tool.name, argumentsJson, call),
  }));
}

/** The arguments a framework parsed, as the JSON text the dispatcher checks (absent arguments are an empty object). */
export function argumentsText(input: unknown): string {
  if (typeof input === 'string') return input;
  try {
    return JSON.stringify(input ?? {}) ?? '{}';
  } catch {
    return String(input);
  }
}
