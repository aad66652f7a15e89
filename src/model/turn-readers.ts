/**
 * The two ways one attempt reads the model's turn: a whole response, or a
 * stream put together chunk by chunk. Each returns the turn, or the failure
 * that ended it; neither throws for anything the server does.
 */
import type { ChatChunk, ChatReasoningFields, ChatResponse, ChatResponseToolCall } from './chat-client.js';
import { checkEnding } from './finish-reason.js';
import { abortWith, bodyFailure, requestFailure } from './model-failure.js';
import type { Failure } from './model-failure.js';
import { requestBody, streamOptionsOf } from './model-request.js';
import { refusesStreamOptions } from './request-failure.js';
import { argumentsText, extraFields } from './tool-call-parts.js';
import type { ModelCallOptions } from './model-request.js';
import { TurnAssembler, usageOf } from './turn-assembler.js';
import type { ModelTurn, TurnReasoning } from './turn-assembler.js';
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
    return await requestFailure(error, options, attempt, 'response');
  }
  options.onProgress?.();
  const choice = completion.choices[0];
  const message = choice?.message;
  const toolCalls = (message?.tool_calls ?? []).flatMap((call) => functionCall(call));
  const reasoning = message ? reasoningOf(message) : null;
  if (reasoning) options.onThinkingDelta?.(reasoning.text);
  const turn: ModelTurn = {
    content: message?.content ?? '',
    toolCalls,
    usage: completion.usage ? usageOf(completion.usage) : null,
    finishReason: choice?.finish_reason ?? null,
    reasoning,
  };
  const extra = message ? messageExtra(message) : {};
  if (Object.keys(extra).length > 0) turn.extra = extra;
  const missing = choice === undefined ? 'a response with no choices' : 'a response whose first choice has no finish_reason';
  return checkEnding(turn, options.allowMissingFinishReason === true, { partialOutput: null, missing });
}

/** A function call as the conversation keeps it (Mistral leaves out `type`; llama.cpp may send the arguments as an object); other calls are left out. */
function functionCall(call: ChatResponseToolCall): ChatToolCall[] {
  if ((call.type !== undefined && call.type !== 'function') || typeof call.function !== 'object' || call.function === null) return [];
  return [{ ...extraFields(call), id: call.id, type: 'function', function: { name: call.function.name, arguments: argumentsText(call.function.arguments) } }];
}

function reasoningOf(message: ChatReasoningFields): TurnReasoning | null {
  for (const field of ['reasoning_content', 'reasoning'] as const) {
    const text = message[field];
    if (typeof text === 'string' && text) return { field, text };
  }
  return null;
}

/** What a response's message says besides what the loop reads itself, or clients add (kept and sent back with it). */
const MESSAGE_FIELDS: ReadonlySet<string> = new Set(['role', 'content', 'tool_calls', 'reasoning_content', 'reasoning', 'refusal', 'annotations', 'audio', 'function_call', 'parsed']);

function messageExtra(message: object): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(message)) if (!MESSAGE_FIELDS.has(field) && value !== undefined && value !== null) extra[field] = value;
  return extra;
}

/** Reads one streamed response, passing its deltas on as they come. */
export async function streamTurn(options: ModelCallOptions, controller: AbortController, attempt: number): Promise<ModelTurn | Failure> {
  let stream: AsyncIterable<ChatChunk>;
  try {
    stream = await openStream(options, controller);
  } catch (error) {
    return await requestFailure(error, options, attempt, 'stream');
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
        // Stopped by the run's signal: the call throws its reason, so the failure is not described (nor redacted) for nobody.
        if (options.signal.aborted) abortWith(options.signal, assembler.partialOutput);
        return await bodyFailure(error, options, assembler);
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

/**
 * Sends a streamed request. A 400 or 422 that names `stream_options` (or
 * has no readable body, as Mistral's `extra_forbidden` reaches the `openai`
 * client) is answered by sending the request once more without it; when that
 * one is accepted, the provider remembers, and its usage is then unknown.
 */
async function openStream(options: ModelCallOptions, controller: AbortController): Promise<AsyncIterable<ChatChunk>> {
  const streamOptions = streamOptionsOf(options);
  const send = (extra: typeof streamOptions) =>
    options.client.chat.completions.create({ ...requestBody(options), stream: true, ...extra }, { signal: controller.signal, maxRetries: 0 });
  try {
    return await send(streamOptions);
  } catch (error) {
    if (streamOptions.stream_options === undefined || options.requestOptions?.stream_options !== undefined || !refusesStreamOptions(error)) throw error;
    let stream: AsyncIterable<ChatChunk>;
    try {
      stream = await send({});
    } catch {
      // Refused without it too: `stream_options` was not the reason; report the first failure.
      throw error;
    }
    if (options.provider) options.provider.streamOptionsRefused = true;
    return stream;
  }
}
