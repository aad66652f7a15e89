/**
 * The error the LLM-facing agent tools throw when a call cannot be carried
 * out for the calling agent (an unknown or closed target, a depth it cannot
 * spawn from, …). It names the argument at fault, so the dispatcher can tell
 * the model which field to fix.
 */
import { SubagentsError } from '../errors.js';

/** Codes the agent tools use beside those of the runtime's errors. */
export type AgentToolErrorCode =
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
