/**
 * The one way a tool call is run, for the public dispatcher and the built-in
 * agent loop alike: find the tool, check the arguments in full, run it, and
 * turn every failure into the same payload (`{ code, message, field? }`).
 * Nothing a model sends makes it throw, and a call that fails its checks has
 * touched nothing.
 */
import { describeValue } from '../errors.js';
import { parseToolArguments } from './tool-arguments.js';
import type { AnyTool, ApprovalDecision, ToolContext } from './define-tool.js';
import { abortedPayload } from '../tool-failure.js';
import type { ToolErrorPayload } from '../tool-failure.js';
import { errorPayloadOf } from './tool-result.js';
import type { ToolRegistry } from './toolsets.js';
import { splitEvidence } from './evidence.js';
import type { Evidence } from '../types.js';

/** Longest arguments string parsed, in characters; longer ones are refused unread. */
export const MAX_ARGUMENTS_LENGTH = 4_000_000;

/** How the arguments as a whole are named in errors (as `parseToolArguments` names them). */
const ARGUMENTS = '(arguments)';

/**
 * What a tool call came to: the tool's result (its `output` when it returned
 * `{ output, evidence }`) with the evidence it reported, or the error the model reads.
 */
export type ToolCallOutcome = { ok: true; result: unknown; evidence: Evidence[] } | { ok: false; error: ToolErrorPayload };

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
    // A tool that never needs approval starts in this same tick, as it always did.
    if (typeof tool.needsApproval === 'function' || tool.needsApproval === true) {
      const refusal = await approvalRefusal(tool, parsed.args, argumentsJson, context);
      if (refusal) return failure(refusal);
      // An approval may have been a long wait: the run may have ended meanwhile.
      if (context.signal.aborted) return failure(abortedPayload());
    }
    const { output, evidence } = splitEvidence(await tool.execute(parsed.args, context), tool.name);
    return { ok: true, result: output, evidence };
  } catch (error) {
    // A tool that stops by throwing its signal's reason was stopped, not failed, whatever that reason is.
    const stopped = context.signal.aborted && error === context.signal.reason;
    return failure(stopped ? abortedPayload() : errorPayloadOf(error));
  }
}

/**
 * Asks for approval when the tool needs it for these arguments: `null` when
 * the call may go on, else what the model reads. The wait counts as waiting
 * (the caller's stale detection pauses), never as work.
 */
async function approvalRefusal(tool: AnyTool, args: Parameters<AnyTool['execute']>[0], argumentsJson: string, context: ToolContext): Promise<ToolErrorPayload | null> {
  const needs = typeof tool.needsApproval === 'function' ? await tool.needsApproval(args, context) : tool.needsApproval === true;
  if (!needs) return null;
  if (!context.requestApproval) {
    return { code: 'approval_denied', message: `The call of \`${tool.name}\` needs approval and nobody can be asked here, so it was denied. Go on without it.` };
  }
  const asked = context.requestApproval({ tool: tool.name, arguments: argumentsJson.trim() === '' ? {} : (JSON.parse(argumentsJson) as unknown) });
  const decision = await (context.waitingFor ? context.waitingFor(asked) : asked);
  if (decision.approved) return null;
  if (decision.decidedBy === 'run-ended') return abortedPayload();
  return { code: 'approval_denied', message: deniedMessage(tool.name, decision) };
}

/** What the model reads when a call was denied: who denied it and why, and what to do instead. */
function deniedMessage(tool: string, decision: ApprovalDecision): string {
  const why = decision.reason ? `: ${decision.reason}` : '';
  const what =
    decision.decidedBy === 'timeout'
      ? 'needs approval and nobody answered in time'
      : decision.decidedBy === 'no-handler'
        ? 'needs approval and nobody can approve calls here'
        : 'was denied by the approver';
  return `The call of \`${tool}\` ${what}${why}. Do not retry it unchanged; go on without it or say what you needed.`;
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
