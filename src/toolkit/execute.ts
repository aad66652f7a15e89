/**
 * The one way a tool call is run, for the public dispatcher and the built-in
 * agent loop alike: find the tool, check the arguments in full, run it, and
 * turn every failure into the same payload (`{ code, message, field? }`).
 * Nothing a model sends makes it throw, and a call that fails its checks has
 * touched nothing.
 */
import { describeValue } from '../errors.js';
import { parseToolArguments } from './tool-arguments.js';
import type { ToolContext } from './define-tool.js';
import { abortedPayload } from '../tool-failure.js';
import type { ToolErrorPayload } from '../tool-failure.js';
import { errorPayloadOf } from './tool-result.js';
import type { ToolRegistry } from './toolsets.js';

/** Longest arguments string parsed, in characters; longer ones are refused unread. */
export const MAX_ARGUMENTS_LENGTH = 4_000_000;

/** How the arguments as a whole are named in errors (as `parseToolArguments` names them). */
const ARGUMENTS = '(arguments)';

/** What a tool call came to: the tool's result, or the error the model reads. */
export type ToolCallOutcome = { ok: true; result: unknown } | { ok: false; error: ToolErrorPayload };

const failure = (error: ToolErrorPayload): ToolCallOutcome => ({ ok: false, error });

/**
 * Runs one call by name and JSON arguments.
 *
 * @example
 * ```ts
 * const outcome = await executeToolCall(createToolRegistry(tools), 'read_file', '{"path":"README.md"}', context);
 * if (!outcome.ok) console.log(outcome.error.code, outcome.error.field);
 * ```
 */
export async function executeToolCall(registry: ToolRegistry, name: unknown, argumentsJson: unknown, context: ToolContext): Promise<ToolCallOutcome> {
  try {
    const tool = typeof name === 'string' ? registry.get(name) : undefined;
    if (!tool) {
      const available = registry.tools.map((each) => each.name);
      return failure({
        code: 'unknown_tool',
        field: 'name',
        message:
          `Expected \`name\` to be one of your tools (${available.join(', ') || 'none'}), ` +
          `got ${typeof name === 'string' ? `\`${name.slice(0, 100)}\`` : describeValue(name)}.`,
      });
    }
    if (typeof argumentsJson !== 'string') {
      return failure({
        code: 'bad_argument',
        field: ARGUMENTS,
        message: `Expected \`${ARGUMENTS}\` to be a string holding one JSON object, got ${describeValue(argumentsJson)}.`,
      });
    }
    if (argumentsJson.length > MAX_ARGUMENTS_LENGTH) {
      return failure({
        code: 'bad_argument',
        field: ARGUMENTS,
        message: `Expected \`${ARGUMENTS}\` of at most ${MAX_ARGUMENTS_LENGTH} characters, got ${argumentsJson.length}: send less text.`,
      });
    }
    const notJson = jsonProblem(argumentsJson);
    if (notJson !== null) {
      return failure({
        code: 'bad_argument',
        field: ARGUMENTS,
        message: `Expected \`${ARGUMENTS}\` of \`${tool.name}\` to be one JSON object matching its parameters; they are not valid JSON (${notJson}).`,
      });
    }
    // Stopped before it started: `aborted`, whatever the signal's reason is (an abort error, a string, …).
    if (context.signal.aborted) return failure(abortedPayload());
    const parsed = parseToolArguments(tool, argumentsJson);
    if (!parsed.ok) return failure({ code: 'bad_argument', field: firstField(parsed.error), message: parsed.error });
    return { ok: true, result: await tool.execute(parsed.args, context) };
  } catch (error) {
    // A tool that stops by throwing its signal's reason was stopped, not failed, whatever that reason is.
    const stopped = context.signal.aborted && error === context.signal.reason;
    return failure(stopped ? abortedPayload() : errorPayloadOf(error));
  }
}

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
