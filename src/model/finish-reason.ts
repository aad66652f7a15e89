/**
 * When a turn counts as finished: only when the response says so, with a
 * `finish_reason` of `stop` or `tool_calls` (or another name a server gives a
 * normal end). A missing one, a truncated, filtered or failed answer is a
 * {@link ModelOutputError}, never an answer.
 */
import { ModelOutputError } from '../errors.js';
import type { ModelOutputReason } from '../errors.js';
import type { Failure } from './model-failure.js';
import type { ModelTurn } from './turn-assembler.js';

/** How a turn that ended without a finish reason is described, and what it had streamed. */
export interface EndingContext {
  partialOutput: string | null;
  /** What came instead of a finish reason, for the error's message. */
  missing: string;
}

/** Accepts a turn that ended normally; anything else becomes a {@link ModelOutputError}, not retried. */
export function checkEnding(turn: ModelTurn, allowMissingFinishReason: boolean, context: EndingContext): ModelTurn | Failure {
  const { finishReason } = turn;
  let reason: ModelOutputReason;
  let received: string;
  if (finishReason === null) {
    if (allowMissingFinishReason) return turn;
    reason = 'stream_cut';
    received = context.missing;
  } else if (finishReason === 'length' || finishReason === 'max_tokens') {
    reason = 'output_truncated';
    received = `finish_reason \`${finishReason}\`: the output reached the token limit and was cut off`;
  } else if (finishReason === 'content_filter') {
    reason = 'content_filter';
    received = 'finish_reason `content_filter`: the provider filtered the output';
  } else if (finishReason === 'error') {
    reason = 'model_error';
    received = 'finish_reason `error`: the model failed while answering';
  } else {
    // `stop`, `tool_calls`, legacy `function_call`, and the names other servers give a normal end.
    return turn;
  }
  const error = new ModelOutputError(reason, { finishReason, partialOutput: context.partialOutput, received, usage: turn.usage });
  return { failed: true, error, retry: false, retryAfterMs: null, partialOutput: context.partialOutput };
}
