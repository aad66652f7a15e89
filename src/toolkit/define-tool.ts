/**
 * Tools the model can call: a zod object for the arguments, an `execute`
 * function, and the conversions around them (OpenAI function definitions,
 * argument parsing with errors a model can act on, results as text).
 */
import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import type { ChatMessage } from '../types.js';

/**
 * What a tool's `execute` receives besides its arguments. An interface, so the
 * runtime can add fields later without breaking existing tools.
 */
export interface ToolContext {
  /** Fires when the run that called the tool is interrupted, cancelled or closed. */
  signal: AbortSignal;
  /** The subagent handle that called the tool; `null` for the root agent. */
  handleId: string | null;
  /** Depth of the calling agent: 0 for the root agent, 1 for its children, … */
  depth: number;
  /**
   * The calling agent's working directory, absolute: resolve relative paths
   * against it (the process-wide working directory is never changed).
   */
  cwd: string;
  /**
   * The calling agent's conversation up to (not including) the assistant
   * message that made this call: what a child forks (`contextMode`). Absent
   * outside a model loop.
   */
  conversation?: () => readonly ChatMessage[];
  /**
   * Runs `work` as a wait for the caller's own subagents: while it lasts, the
   * caller's stale detection is paused (waiting for children is not being
   * stale). Absent where nothing needs telling (the root agent, your own loop).
   */
  waitingFor?: <T>(work: Promise<T>) => Promise<T>;
  /**
   * Asks the host to approve a call (the executor does it for tools that
   * declare `needsApproval`); resolves when the host answers, the request
   * times out, or the caller's run ends. Absent where no runtime is behind
   * the call: a tool that needs approval is then denied.
   */
  requestApproval?: (request: ApprovalAsk) => Promise<ApprovalDecision>;
}

/** What an agent asks the host to approve: a call of one tool with these arguments. */
export interface ApprovalAsk {
  tool: string;
  /** The arguments as the model sent them (parsed JSON). */
  arguments: unknown;
}

/** Who decided an approval request. */
export type ApprovalDecider = 'host' | 'handler' | 'timeout' | 'no-handler' | 'run-ended';

/** How an approval request ended. */
export interface ApprovalDecision {
  requestId: string;
  approved: boolean;
  /** The reason given with the answer, or why the call was denied without one. */
  reason: string | null;
  /**
   * `host`: `runtime.approve()`; `handler`: the `onApproval` function;
   * `timeout`: nobody answered within `approvalTimeoutMs`; `no-handler`: the
   * runtime has no way to ask; `run-ended`: the caller's run ended first.
   */
  decidedBy: ApprovalDecider;
}

/**
 * Whether a call needs the host's approval: a fixed answer, or one computed
 * from the validated arguments (and the caller's context) for each call.
 */
export type NeedsApproval<TArgs> = boolean | ((args: TArgs, context: ToolContext) => boolean | Promise<boolean>);

/** The zod schemas accepted as a tool's `parameters`: any zod object. */
export type ToolParameters = z.ZodObject<z.core.$ZodShape, z.core.$ZodObjectConfig>;

/** A JSON Schema object, as plain JSON. */
export type JsonSchema = Record<string, unknown>;

/** What `defineTool` takes. */
export interface ToolConfig<TParameters extends ToolParameters, TResult> {
  /** The name the model calls the tool by: snake_case, `^[a-zA-Z0-9_-]{1,64}$`. */
  name: string;
  /** The toolset the tool belongs to (`read`, `web`, `delegation`, …); same pattern as `name`. */
  toolset: string;
  /** What the tool does and when to use it, written for the model. */
  description: string;
  /** The arguments, as a zod object; its JSON Schema is what the model sees. */
  parameters: TParameters;
  /**
   * Runs the tool with validated arguments. A string result goes to the model
   * as is; anything else is JSON-stringified (see {@link toolResultToString}).
   */
  execute: (args: z.output<TParameters>, context: ToolContext) => TResult | Promise<TResult>;
  /**
   * Calls need the host's approval before `execute` runs: the agent's run
   * waits (status `running`, `awaitingApproval` in its snapshot) until the
   * host answers; a denial reaches the model as the tool's error. A function
   * decides per call from the validated arguments.
   * @default false
   */
  needsApproval?: NeedsApproval<z.output<TParameters>>;
}

/** A defined tool: its configuration plus the JSON Schema computed once at definition. */
export interface Tool<TParameters extends ToolParameters = ToolParameters, TResult = unknown> {
  readonly name: string;
  readonly toolset: string;
  readonly description: string;
  readonly parameters: TParameters;
  /** JSON Schema of the arguments the model sends (zod's input side). */
  readonly jsonSchema: JsonSchema;
  /** Whether {@link Tool.jsonSchema} fits OpenAI's strict function calling. */
  readonly strict: boolean;
  /** Whether calls need the host's approval (see {@link ToolConfig.needsApproval}). */
  readonly needsApproval: NeedsApproval<z.output<TParameters>>;
  execute(args: z.output<TParameters>, context: ToolContext): TResult | Promise<TResult>;
}

/** A tool of any parameters and result: the element type of a heterogeneous tool list. */
export type AnyTool = Tool<ToolParameters, unknown>;

/** An OpenAI chat-completions function tool, as sent in the `tools` array. */
export interface OpenAIFunctionTool {
  type: 'function';
  function: {
    name: string;
    description: string;
    parameters: JsonSchema;
    strict?: boolean;
  };
}

/** The pattern OpenAI-compatible APIs accept for function names. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool. Configuration errors (a bad name, a schema JSON Schema
 * cannot represent, …) throw here, at definition time, not when the model
 * calls it.
 *
 * In the JSON Schema the model sees, every plain `z.object` is closed
 * (`additionalProperties: false`) and {@link parseToolArguments} rejects
 * unknown fields, so a misspelled field is reported instead of dropped. Use
 * `z.looseObject` to accept extra fields.
 *
 * @throws {BadArgumentError} when a field of the configuration is invalid.
 * @example
 * ```ts
 * const readFile = defineTool({
 *   name: 'read_file',
 *   toolset: 'read',
 *   description: 'Read a UTF-8 text file and return its content.',
 *   parameters: z.object({ path: z.string().describe('Path relative to the workspace') }),
 *   execute: ({ path }, { signal }) => fs.readFile(path, { encoding: 'utf8', signal }),
 * });
 * ```
 */
export function defineTool<TParameters extends ToolParameters, TResult>(
  config: ToolConfig<TParameters, TResult>,
): Tool<TParameters, TResult> {
  const { name, toolset, description, parameters, execute, needsApproval = false } = config;
  if (typeof name !== 'string' || !TOOL_NAME_PATTERN.test(name)) {
    throw new BadArgumentError('name', 'a tool name matching /^[a-zA-Z0-9_-]{1,64}$/', name);
  }
  if (typeof toolset !== 'string' || !TOOL_NAME_PATTERN.test(toolset)) {
    throw new BadArgumentError(`toolset of tool \`${name}\``, 'a toolset name matching /^[a-zA-Z0-9_-]{1,64}$/', toolset);
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new BadArgumentError(`description of tool \`${name}\``, 'a non-empty string', description);
  }
  if (!((parameters as unknown) instanceof z.ZodObject)) {
    // A zod 3 schema (zod@3, or `zod/v3`) has `_def` but no `_zod`: say which zod tool schemas are.
    const zod3 = typeof parameters === 'object' && parameters !== null && '_def' in parameters && !('_zod' in parameters);
    const expected = zod3
      ? "a zod 4 object schema (tool schemas are zod 4: z.object({…}) from `import { z } from 'zod'` with zod 4 installed, or from 'zod/v4')"
      : 'a zod object schema (z.object({…}))';
    throw new BadArgumentError(`parameters of tool \`${name}\``, expected, parameters);
  }
  if (typeof execute !== 'function') {
    throw new BadArgumentError(`execute of tool \`${name}\``, 'a function', execute);
  }
  if (typeof needsApproval !== 'boolean' && typeof needsApproval !== 'function') {
    throw new BadArgumentError(`needsApproval of tool \`${name}\``, 'a boolean or a function (args, context) => boolean', needsApproval);
  }
  const jsonSchema = parametersToJsonSchema(name, parameters);
  return Object.freeze({
    name,
    toolset,
    description,
    parameters,
    jsonSchema,
    strict: allowsOpenAIStrictMode(jsonSchema),
    needsApproval,
    execute,
  });
}

function parametersToJsonSchema(toolName: string, parameters: ToolParameters): JsonSchema {
  let schema: JsonSchema;
  try {
    schema = z.toJSONSchema(parameters, {
      // The model writes the input side: fields with defaults are optional to it.
      io: 'input',
      target: 'draft-2020-12',
      unrepresentable: 'throw',
      cycles: 'ref',
      reused: 'inline',
      override: ({ zodSchema, jsonSchema }) => {
        const def = zodSchema._zod.def;
        // A plain z.object drops unknown keys; we reject them instead, and say so.
        if (def.type === 'object' && def.catchall === undefined) jsonSchema.additionalProperties = false;
      },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BadArgumentError(
      `parameters of tool \`${toolName}\``,
      `a zod object that JSON Schema can represent (${reason})`,
      parameters,
    );
  }
  delete schema.$schema;
  return schema;
}

/** Keywords OpenAI's strict mode refuses; annotations such as `description` are fine. */
const STRICT_UNSUPPORTED_KEYWORDS = new Set([
  'allOf', 'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas', 'dependencies',
  'patternProperties', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'prefixItems',
  'additionalItems', 'contains', 'minContains', 'maxContains', 'uniqueItems', 'minProperties',
  'maxProperties', '$anchor', '$dynamicRef', '$dynamicAnchor', 'contentEncoding', 'contentMediaType',
]);

/** String formats OpenAI's strict mode understands. */
const STRICT_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);

/**
 * Whether a JSON Schema fits OpenAI's strict function calling: the root is an
 * object, every object lists all its properties as required and sets
 * `additionalProperties: false`, arrays have one `items` schema, and no
 * unsupported keyword or string format appears.
 *
 * @example
 * ```ts
 * allowsOpenAIStrictMode(z.toJSONSchema(z.object({ a: z.string() }))); // true
 * ```
 */
export function allowsOpenAIStrictMode(schema: JsonSchema): boolean {
  return schema.type === 'object' && isStrictNode(schema);
}

function isStrictNode(node: unknown): boolean {
  if (!isRecord(node)) return false;
  for (const keyword of Object.keys(node)) if (STRICT_UNSUPPORTED_KEYWORDS.has(keyword)) return false;
  if (typeof node.format === 'string' && !STRICT_FORMATS.has(node.format)) return false;
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('object') || node.properties !== undefined) {
    const properties = isRecord(node.properties) ? node.properties : {};
    const required = Array.isArray(node.required) ? node.required : [];
    if (node.additionalProperties !== false) return false;
    if (Object.keys(properties).some((key) => !required.includes(key))) return false;
    if (!Object.values(properties).every(isStrictNode)) return false;
  }
  if (types.includes('array') && !isStrictNode(node.items)) return false;
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = node[keyword];
    if (branches !== undefined && !(Array.isArray(branches) && branches.every(isStrictNode))) return false;
  }
  for (const keyword of ['$defs', 'definitions'] as const) {
    const definitions = node[keyword];
    if (definitions !== undefined && !(isRecord(definitions) && Object.values(definitions).every(isStrictNode))) {
      return false;
    }
  }
  return true;
}

/**
 * The OpenAI chat-completions definition of a tool. `strict: true` is set only
 * when the schema allows it (see {@link allowsOpenAIStrictMode}); otherwise the
 * field is left out, which every OpenAI-compatible server accepts.
 *
 * @example
 * ```ts
 * await openai.chat.completions.create({ model, messages, tools: tools.map(toOpenAITool) });
 * ```
 */
const sharedDefinitions = new WeakMap<AnyTool, OpenAIFunctionTool>();

/**
 * The definition of a tool, built once and shared (deeply frozen): for the
 * model loop, which sends it on every call and never changes it.
 */
export function sharedOpenAITool(tool: AnyTool): OpenAIFunctionTool {
  let definition = sharedDefinitions.get(tool);
  if (!definition) sharedDefinitions.set(tool, (definition = deepFreeze(toOpenAITool(tool))));
  return definition;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export function toOpenAITool(tool: AnyTool): OpenAIFunctionTool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      description: tool.description,
      parameters: structuredClone(tool.jsonSchema),
      ...(tool.strict ? { strict: true } : {}),
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
