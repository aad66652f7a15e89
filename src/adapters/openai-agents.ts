/**
 * `subagents/openai-agents`: the agent tools as `@openai/agents` function
 * tools. An `Agent` given them delegates to the runtime's subagents; its run
 * is their parent (the root agent). Needs `@openai/agents` ~0.14 (an
 * optional peer dependency).
 */
import { tool } from '@openai/agents';
import type { FunctionTool } from '@openai/agents';
import { adaptAgentTools, argumentsText } from './adapted-tools.js';
import type { AdapterOptions } from './adapted-tools.js';
import type { Runtime } from '../agent/runtime-api.js';

export type { AdapterOptions, AgentToolName } from './adapted-tools.js';

/** The options `tool()` takes for a JSON-Schema tool whose input is parsed but not validated (the dispatcher checks it). */
type JsonSchemaToolOptions = Extract<Parameters<typeof tool>[0], { strict: false }>;

/**
 * Creates the agent tools (`delegate_task`, `spawn_agent`, `wait_agent`, …)
 * as `@openai/agents` tools over `runtime`. Each has the same schema, limits
 * in its description (read again whenever the agent's tools are sent) and
 * checks as the built-in loop's, and answers every call with the JSON text
 * the model reads, failures included; the call's `signal` stops a delegation
 * it waits for.
 *
 * @throws {BadArgumentError} when `runtime` is not a runtime or an option is invalid.
 * @example
 * ```ts
 * import { Agent, run } from '@openai/agents';
 * import { createOpenAIAgentsTools } from 'subagents/openai-agents';
 *
 * const agent = new Agent({ name: 'lead', instructions: 'Delegate the survey.', tools: createOpenAIAgentsTools(runtime) });
 * const result = await run(agent, 'Survey this repository.');
 * ```
 */
export function createOpenAIAgentsTools(runtime: Runtime, options: AdapterOptions = {}): FunctionTool[] {
  return adaptAgentTools(runtime, options).map((adapted) => {
    const options: JsonSchemaToolOptions = {
      name: adapted.name,
      description: adapted.description(),
      parameters: adapted.parameters() as JsonSchemaToolOptions['parameters'],
      strict: false,
      execute: (input, _runContext, details) => adapted.call(argumentsText(input), { callId: details?.toolCall?.callId, signal: details?.signal }),
    };
    const made: FunctionTool = tool(options);
    // What the model is sent is read from these at every turn: the limits configured now, and strict mode where the schema allows it.
    return Object.defineProperties(made, {
      description: { get: adapted.description, enumerable: true, configurable: true },
      parameters: { get: adapted.parameters, enumerable: true, configurable: true },
      strict: { value: adapted.strict, enumerable: true, configurable: true, writable: true },
    });
  });
}
