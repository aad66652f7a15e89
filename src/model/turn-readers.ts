/**
 * The two ways one attempt reads the model's turn: a whole response, or a
 * stream put together chunk by chunk. Each returns the turn, or the failure
 * that ended it; neither throws for anything the server does.
 */
import type { ChatChunk, ChatResponse, ChatResponseToolCall } from './chat-client.js';
import { checkEnding } from './finish-reason.js';
import { bodyFailure, requestFailure } from './model-failure.js';
import type { Failure } from './model-failure.js';
import { requestBody } from './model-request.js';
import type { ModelCallOptions } from './model-request.js';
import { TurnAssembler } from './turn-assembler.js';
import type { ModelTurn } from './turn-assembler.js';
import type { ChatToolCall } from '../types.js';

/** Reads one whole response. */
export async function completeTurn(options: ModelCallOptions, controller: AbortController, attempt: number): Promise<ModelTurn | Failure> {
  let completion: ChatResponse;
  try {
    completion = await options.client.chat.completions.create(
      { ...requestBody(options), stream: false },
      { signal: controller.signal, maxRetries: 0 },
    );
  } catch (error) {
    return requestFailure(error, options, attempt, 'response');
  }
  options.onProgress?.();
  const choice = completion.choices[0];
  const toolCalls = (choice?.message.tool_calls ?? []).filter(
    (call: ChatResponseToolCall): call is ChatToolCall => call.type === 'function' && call.function !== undefined,
  );
  const turn: ModelTurn = {
    content: choice?.message.content ?? '',
    toolCalls,
    usage: completion.usage ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens } : null,
    finishReason: choice?.finish_reason ?? null,
  };
  const missing = choice === undefined ? 'a response with no choices' : 'a response whose first choice has no finish_reason';
  return checkEnding(turn, options.allowMissingFinishReason === true, { partialOutput: null, missing });
}

/** Reads one streamed response, passing its deltas on as they come. */
export async function streamTurn(options: ModelCallOptions, controller: AbortController, attempt: number): Promise<ModelTurn | Failure> {
  let stream: AsyncIterable<ChatChunk>;
  try {
    stream = await options.client.chat.completions.create(
      { ...requestBody(options), stream: true, stream_options: { include_usage: true } },
      { signal: controller.signal, maxRetries: 0 },
    );
  } catch (error) {
    return requestFailure(error, options, attempt, 'stream');
  }
  const assembler = new TurnAssembler(options);
  const iterator = stream[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      let next: IteratorResult<ChatChunk>;
      try {
        next = await iterator.next();
      } catch (error) {
        ended = true;
        return bodyFailure(error, options, assembler);
      }
      if (next.done === true) {
        ended = true;
        break;
      }
      assembler.add(next.value);
    }
  } finally {
    // A callback threw: stop the transfer before leaving.
    if (!ended) {
      controller.abort();
      await iterator.return?.();
    }
  }
  const chunks = `${assembler.chunks} ${assembler.chunks === 1 ? 'chunk' : 'chunks'}`;
  return checkEnding(assembler.turn(), options.allowMissingFinishReason === true, {
    partialOutput: assembler.partialOutput,
    missing: `a stream that ended after ${chunks} without one (connection cut?)`,
  });
}
