/**
 * Tools whose description depends on the agent that sees it and on the
 * runtime's limits at that moment. The text is computed every time a
 * definition is requested, never frozen when the tool is created, so a model
 * always reads the limits that are configured now.
 */
import type { z } from 'zod';
import { defineTool, sharedOpenAITool } from './define-tool.js';
import type { AnyTool, JsonSchema, OpenAIFunctionTool, Tool, ToolContext, ToolParameters } from './define-tool.js';

/** The agent a definition is written for. */
export interface ToolCaller {
  /** The calling handle; `null` for the root agent. */
  handleId: string | null;
  /** 0 for the root agent, 1 for its children, … */
  depth: number;
}

/** The root agent, whose view a tool's own `description` shows. */
export const ROOT_CALLER: ToolCaller = Object.freeze({ handleId: null, depth: 0 });

/** A description computed for one caller. */
export interface ToolDescription {
  description: string;
  /**
   * Descriptions of properties, by path through `properties` (array fields
   * step into their `items`): `['tasks', 'role']` is `role` inside each task.
   */
  properties?: ReadonlyArray<{ path: readonly string[]; description: string }>;
}

/** What {@link defineDynamicTool} takes. */
export interface DynamicToolConfig<TParser extends ToolParameters, TResult> {
  name: string;
  toolset: string;
  /** Parses and checks the model's arguments; may accept more than `advertised` shows (a JSON string for an array). */
  parameters: TParser;
  /** The schema the model sees. @default parameters */
  advertised?: ToolParameters;
  /** The description (and property descriptions) for a caller, read when definitions are requested. */
  describe: (caller: ToolCaller) => ToolDescription;
  execute: (args: z.output<TParser>, context: ToolContext) => TResult | Promise<TResult>;
}

const describers = new WeakMap<object, (caller: ToolCaller) => OpenAIFunctionTool>();

/**
 * Defines a tool whose `description` and `jsonSchema` are getters: each read
 * computes them again (for the root agent); {@link toolDefinitionsFor} writes
 * them for any caller. Configuration errors throw here, as with `defineTool`.
 *
 * @example
 * ```ts
 * const tool = defineDynamicTool({
 *   name: 'ping', toolset: 'delegation', parameters: z.object({}),
 *   describe: () => ({ description: `Limit now: ${runtime.limits.maxConcurrentChildren}` }),
 *   execute: () => 'pong',
 * });
 * ```
 */
export function defineDynamicTool<TParser extends ToolParameters, TResult>(
  config: DynamicToolConfig<TParser, TResult>,
): Tool<TParser, TResult> {
  const { name, toolset, parameters, describe, execute } = config;
  // defineTool checks the name, toolset and schema, and computes the JSON Schema once.
  const base = defineTool({
    name,
    toolset,
    description: describe(ROOT_CALLER).description,
    parameters: config.advertised ?? parameters,
    execute: () => undefined,
  });
  const schemaFor = (described: ToolDescription): JsonSchema => {
    const schema = structuredClone(base.jsonSchema);
    for (const { path, description } of described.properties ?? []) setPropertyDescription(schema, path, description);
    return schema;
  };
  const definitionFor = (caller: ToolCaller): OpenAIFunctionTool => {
    const described = describe(caller);
    return {
      type: 'function',
      function: {
        name,
        description: described.description,
        parameters: schemaFor(described),
        ...(base.strict ? { strict: true } : {}),
      },
    };
  };
  const tool: Tool<TParser, TResult> = Object.freeze({
    name,
    toolset,
    parameters,
    strict: base.strict,
    needsApproval: false,
    get description() {
      return describe(ROOT_CALLER).description;
    },
    get jsonSchema() {
      return schemaFor(describe(ROOT_CALLER));
    },
    execute,
  });
  describers.set(tool, definitionFor);
  return tool;
}

/**
 * The OpenAI definitions of `tools` as `caller` should see them: dynamic tools
 * described for it now, other tools as `toOpenAITool` gives them
 * (shared and frozen: copy one before changing it).
 *
 * @example
 * ```ts
 * const definitions = toolDefinitionsFor(tools, { handleId: 'sa_1', depth: 1 });
 * ```
 */
export function toolDefinitionsFor(tools: readonly AnyTool[], caller: ToolCaller): OpenAIFunctionTool[] {
  return tools.map((tool) => describers.get(tool)?.(caller) ?? sharedOpenAITool(tool));
}

function setPropertyDescription(schema: JsonSchema, path: readonly string[], description: string): void {
  let node: unknown = schema;
  for (const segment of path) {
    if (isRecord(node) && node.type === 'array' && isRecord(node.items)) node = node.items;
    const properties = isRecord(node) ? node.properties : undefined;
    node = isRecord(properties) ? properties[segment] : undefined;
  }
  // A path that does not exist is a bug in the describer: it must not break a definition.
  if (isRecord(node)) node.description = description;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
