/**
 * `subagents/ai-sdk`: the agent tools as Vercel AI SDK tools, for
 * `generateText` / `streamText` with `stopWhen`. The call that runs them is
 * the parent (the root agent) of what they delegate. Needs `ai` 6 (an
 * optional peer dependency).
 */
import { jsonSchema, tool } from 'ai';
import type { Tool } from 'ai';
import { adaptAgentTools, argumentsText } from './adapted-tools.js';
import type { AdapterOptions, AgentToolName } from './adapted-tools.js';
import type { Runtime } from '../agent/runtime-api.js';

export type { AdapterOptions, AgentToolName } from './adapted-tools.js';

/** The agent tools as an AI SDK tool set, by name. The output is the JSON text the model reads. */
export type AiSdkAgentTools = Partial<Record<AgentToolName, Tool<unknown, string>>>;

/**
 * Creates the agent tools (`delegate_task`, `spawn_agent`, `wait_agent`, …)
 * as an AI SDK tool set over `runtime`: the same schemas, limits (read again
 * at every step) and checks as the built-in loop's. The SDK passes every
 * input through (the dispatcher checks it, and a bad one comes back to the
 * model as `{"ok":false,…}`); the call's `abortSignal` stops a delegation it
 * waits for.
 *
 * @throws {BadArgumentError} when `runtime` is not a runtime or an option is invalid.
 * @example
 * ```ts
 * import { generateText, stepCountIs } from 'ai';
 * import { createAiSdkTools } from 'subagents/ai-sdk';
 *
 * const { text } = await generateText({ model, tools: createAiSdkTools(runtime), stopWhen: stepCountIs(5), prompt: 'Survey this repository.' });
 * ```
 */
export function createAiSdkTools(runtime: Runtime, options: AdapterOptions = {}): AiSdkAgentTools {
  const tools: AiSdkAgentTools = {};
  for (const adapted of adaptAgentTools(runtime, options)) {
    // The schema the model sees is read again at every step; any input is accepted here and checked by the dispatcher.
    const inputSchema = jsonSchema<unknown>(adapted.parameters(), { validate: (value) => ({ success: true, value }) });
    Object.defineProperty(inputSchema, 'jsonSchema', { get: adapted.parameters, enumerable: true, configurable: true });
    const made = tool<unknown, string>({
      description: adapted.description(),
      inputSchema,
      ...(adapted.strict ? { strict: true } : {}),
      execute: (input, { toolCallId, abortSignal }) => adapted.call(argumentsText(input), { callId: toolCallId, signal: abortSignal }),
    });
    tools[adapted.name] = Object.defineProperty(made, 'description', { get: adapted.description, enumerable: true, configurable: true });
  }
  return tools;
}
