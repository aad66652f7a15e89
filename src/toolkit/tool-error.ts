/**
 * The error the LLM-facing agent tools throw when a call cannot be carried
 * out for the calling agent (an unknown or closed target, a depth it cannot
 * spawn from, …). It names the argument at fault, so the dispatcher can tell
 * the model which field to fix.
 */
import { BackgroundLimitError, BadArgumentError, DepthLimitError, SubagentsError } from '../errors.js';

/** Codes the agent tools use beside those of the runtime's errors. */
export type AgentToolErrorCode =
  | 'bad_argument'
  | 'unknown_handle'
  | 'no_open_handle'
  | 'handle_closed'
  | 'not_running'
  | 'not_resumable'
  | 'depth_limit'
  | 'background_limit'
  | 'name_taken';

/**
 * A tool call the calling agent must change: `field` names the argument.
 *
 * @example
 * ```ts
 * throw new AgentToolError('unknown_handle', 'target', 'No subagent `x` among yours (none spawned yet)');
 * ```
 */
export class AgentToolError extends SubagentsError {
  constructor(
    readonly code: AgentToolErrorCode,
    /** The argument at fault, as the model wrote it (`target`, `targets[1]`, …). */
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** What an agent at the depth limit is told, in tool errors and descriptions alike. */
export function depthLimitSentence(depth: number, maxSpawnDepth: number): string {
  return `You are at depth ${depth} and the maximum spawn depth is ${maxSpawnDepth}: you cannot delegate; do the work yourself.`;
}

/**
 * A runtime error raised by a tool's call, as the model should read it: a
 * refused limit says which limit and what to do, and a bad argument is
 * named as the tool spells it (`fieldName` maps the runtime's name,
 * `tasks[0].agentType`, to the tool's, `tasks[0].agent_type`). The runtime
 * decides; this only words it. Anything else comes back as it was.
 *
 * @example
 * ```ts
 * try { runtime.spawn({ parentId: 'sa_1' }); } catch (error) { throw toolErrorOf(error); }
 * ```
 */
export function toolErrorOf(error: unknown, fieldName: (argument: string) => string = (argument) => argument): unknown {
  if (error instanceof DepthLimitError) return new AgentToolError('depth_limit', null, depthLimitSentence(error.depth, error.maxSpawnDepth));
  if (error instanceof BackgroundLimitError) {
    return new AgentToolError(
      'background_limit',
      'background',
      `Expected \`background\` to be false now: ${error.active} background delegations are running, the most allowed (${error.maxBackground}) ` +
        "by the runtime's maxBackground. Wait for one to finish (its result arrives as a message), or call again without background to wait for this one.",
    );
  }
  if (error instanceof BadArgumentError) {
    const field = fieldName(error.argument);
    if (field === error.argument) return error;
    // Every BadArgumentError message opens with "Expected `argument` …".
    return new AgentToolError('bad_argument', field, error.message.replace(`\`${error.argument}\``, `\`${field}\``));
  }
  return error;
}
