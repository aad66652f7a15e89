/**
 * Public types of the fake OpenAI-compatible server (`subagents/testing`).
 *
 * The request types describe what an OpenAI client sends; they are the parsed
 * JSON as received, checked only for a `messages` array.
 */

/** One content part of a chat message (`{ type: 'text', text }` for text). */
export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

/** A tool call carried by an assistant message of the conversation. */
export interface ChatMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One message of `body.messages`, as the client sent it. */
export interface ChatRequestMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | (string & {});
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatMessageToolCall[];
  tool_call_id?: string;
  [key: string]: unknown;
}

/** A function tool offered to the model in `body.tools`. */
export interface ChatRequestTool {
  type: 'function' | (string & {});
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean | null;
  };
  [key: string]: unknown;
}

/** The parsed JSON body of a `POST /v1/chat/completions` request. */
export interface ChatRequestBody {
  model: string;
  messages: ChatRequestMessage[];
  tools?: ChatRequestTool[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  [key: string]: unknown;
}

/**
 * A request the fake server received, updated in place as its response progresses.
 *
 * @example
 * ```ts
 * const [first] = server.requests;
 * expect(first?.body.tools?.map((tool) => tool.function.name)).toContain('delegate_task');
 * expect(first?.aborted).toBe(false);
 * ```
 */
export interface RecordedRequest {
  /** 0-based order of arrival. */
  index: number;
  /** The parsed JSON body (model, messages, tools, stream, …). */
  body: ChatRequestBody;
  /** The request headers, lower-cased as Node parses them. */
  headers: Record<string, string | string[] | undefined>;
  /** `performance.now()` when the body had been read. */
  receivedAt: number;
  /** The client closed the connection before the response ended. */
  aborted: boolean;
  /** `performance.now()` when the client's close was detected, or `null`. */
  abortedAt: number | null;
  /** The full response was written. */
  completed: boolean;
  /**
   * Why the script gave no reply (list exhausted, function threw, invalid reply),
   * or `null`. The same message is sent to the client in a 500 response.
   */
  scriptError: string | null;
}

/** A tool call the fake model makes. */
export interface ScriptedToolCall {
  /** The tool's name, as offered in `body.tools`. */
  name: string;
  /** JSON text, or a value that is serialised with `JSON.stringify`. */
  arguments: string | object;
  /** @default `call_<request index>_<position>` */
  id?: string;
}

/** Token counts reported in `usage`. */
export interface ScriptedUsage {
  promptTokens: number;
  completionTokens: number;
}

/** A successful assistant message: text, tool calls, or both. */
export interface MessageReply {
  fault?: undefined;
  /** The assistant's text. @default none: `null` beside tool calls, `''` otherwise */
  content?: string;
  /** Tool calls; when present, `finish_reason` is `tool_calls`. */
  toolCalls?: ScriptedToolCall[];
  /** @default an estimate of about 4 characters per token from the text lengths */
  usage?: ScriptedUsage;
  /** Delay before the response headers. @default the server's `latencyMs` */
  latencyMs?: number;
  /** Streaming: delay between two chunks. @default 0 */
  chunkDelayMs?: number;
  /** Streaming: characters per content or arguments delta. @default 16 */
  chunkSize?: number;
  /**
   * The `finish_reason` sent: `'length'`, `'content_filter'`, … `null` sends
   * none at all (no final chunk when streaming, no field otherwise), as some
   * servers do and as a cut stream looks.
   * @default `tool_calls` beside tool calls, `stop` otherwise
   */
  finishReason?: string | null;
}

/** An HTTP error status, with the body an OpenAI-compatible API would send. */
export interface StatusFault {
  fault: 'status';
  /** For example 429 or 500. */
  status: number;
  /** JSON-serialised; a string is sent verbatim. @default `{ error: { message, type, param: null, code: null } }` */
  body?: unknown;
  /** Extra response headers, for example `{ 'retry-after-ms': '10' }`. */
  headers?: Record<string, string>;
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/**
 * A response whose connection is destroyed part-way. Streaming: after
 * `afterChunks` SSE events (never the final `[DONE]`; 0 closes before any
 * byte). Not streaming: after half of the JSON body.
 */
export interface CutFault {
  fault: 'cut';
  afterChunks: number;
  /** The text being streamed when the cut happens. @default a short sentence */
  content?: string;
  /** @default 0 */
  chunkDelayMs?: number;
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/**
 * A response whose connection is reset (a TCP RST, as a crashed proxy or a
 * load balancer sends) part-way. Streaming: after `afterChunks` SSE events
 * (never the final `[DONE]`; 0 resets before any byte). Not streaming: after
 * half of the JSON body, or before any byte when `afterChunks` is 0.
 */
export interface ResetFault {
  fault: 'reset';
  afterChunks: number;
  /** The text being streamed when the reset happens. @default a short sentence */
  content?: string;
  /** @default 0 */
  chunkDelayMs?: number;
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/**
 * A stream that stops inside an SSE event: `afterChunks` whole events (never
 * the final `[DONE]`), then the first half of the next event's bytes, then the
 * connection closes. Not streaming: half of the JSON body, then the close.
 */
export interface CutMidChunkFault {
  fault: 'cutMidChunk';
  afterChunks: number;
  /**
   * How the connection closes: `'destroy'` drops it (the client sees an
   * error), `'end'` finishes the response cleanly (the client sees a body
   * that simply stops, the half event dropped).
   * @default 'destroy'
   */
  close?: 'destroy' | 'end';
  /** The text being streamed when the cut happens. @default a short sentence */
  content?: string;
  /** @default 0 */
  chunkDelayMs?: number;
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/**
 * A response that starts and never finishes, yet keeps the connection busy:
 * streaming, it sends `content` (if any) and then an SSE comment line every
 * `intervalMs`; not streaming, the JSON headers and then one space of
 * whitespace every `intervalMs`. It goes on until the client aborts or the
 * server closes.
 */
export interface SlowLorisFault {
  fault: 'slowLoris';
  /** Time between two writes. @default 100 */
  intervalMs?: number;
  /** Streaming: text sent in chunks before the trickle starts, with no finish_reason. @default none */
  content?: string;
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/** Status 200 with a body that is not valid JSON (a broken SSE data line when streaming). */
export interface MalformedFault {
  fault: 'malformed';
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/**
 * A response written as given, for shapes the other replies do not make:
 * the `quirks` fixtures (what real servers send) are built on it. With
 * `events` it is an SSE stream, each event written verbatim; else `body` is
 * the JSON response.
 *
 * @example
 * ```ts
 * const raw: RawReply = { fault: 'raw', events: [': OPENROUTER PROCESSING\n\n', 'data: [DONE]\n\n'] };
 * ```
 */
export interface RawReply {
  fault: 'raw';
  /** @default 200 */
  status?: number;
  /** SSE events written as they are (`data: {…}\n\n`, `: comment\n\n`), as `text/event-stream`. */
  events?: readonly string[];
  /** The JSON body (serialised unless a string), as `application/json`, when there are no `events`. */
  body?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** @default the server's `latencyMs` */
  latencyMs?: number;
}

/** No answer at all until the client aborts or the server closes. */
export interface HangFault {
  fault: 'hang';
}

/**
 * What the fake server answers to one request. Build them with `reply`.
 *
 * @example
 * ```ts
 * const replies: Reply[] = [
 *   { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'Draft' } }] },
 *   { fault: 'status', status: 429, headers: { 'retry-after': '1' } },
 *   { fault: 'reset', afterChunks: 3 },
 *   { content: 'Done.', chunkDelayMs: 10 },
 * ];
 * ```
 */
export type Reply =
  | MessageReply
  | StatusFault
  | CutFault
  | ResetFault
  | CutMidChunkFault
  | SlowLorisFault
  | MalformedFault
  | RawReply
  | HangFault;

/** Chooses the reply to a request; may be async. */
export type ScriptFunction = (request: RecordedRequest) => Reply | Promise<Reply>;

/**
 * A function of each request, or a list consumed in arrival order (request #i
 * gets `list[i]`). Under concurrent callers arrival order is not deterministic:
 * prefer a function, for example `scriptByConversation`.
 */
export type Script = ScriptFunction | readonly Reply[];

/**
 * Options of `startFakeServer`.
 *
 * @example
 * ```ts
 * const options: FakeServerOptions = { script: [reply.text('Hi')], latencyMs: 20 };
 * ```
 */
export interface FakeServerOptions {
  /** What to answer, per request. */
  script: Script;
  /** Delay before each response, unless the reply sets its own. @default 0 */
  latencyMs?: number;
}

/**
 * A running fake server.
 *
 * @example
 * ```ts
 * const aborted = new Promise<RecordedRequest>((resolve) => server.onAbort(resolve));
 * const controller = new AbortController();
 * const call = client.chat.completions.create({ model: 'm', messages }, { signal: controller.signal });
 * await server.waitForRequests(1);
 * controller.abort();
 * const record = await aborted; // record.aborted === true, record.abortedAt set
 * await call.catch(() => {});
 * await server.close();
 * ```
 */
export interface FakeServer {
  /** Base URL for the client, for example `http://127.0.0.1:53121/v1`. */
  readonly url: string;
  /** Every chat completion request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Calls `listener` when a request's body has been read; returns the unsubscribe function. */
  onRequest(listener: (request: RecordedRequest) => void): () => void;
  /** Calls `listener` when a client closes its connection before its response ended. */
  onAbort(listener: (request: RecordedRequest) => void): () => void;
  /**
   * Resolves once `count` requests have arrived; rejects after `timeoutMs` or on close.
   * @default timeoutMs 5000
   */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Ends every response and connection, clears every timer, stops listening. Idempotent. */
  close(): Promise<void>;
}
