/**
 * Writes the scripted reply of one exchange: a completion (JSON or SSE) or a
 * fault. Every delay goes through the exchange, so an abort or the server
 * closing cancels it.
 */
import type { ServerResponse } from 'node:http';
import type { Exchange } from './exchange.js';
import { resolveReply } from './script.js';
import type { CutFault, CutMidChunkFault, MessageReply, RawReply, ResetFault, Script, SlowLorisFault, StatusFault } from './types.js';
import {
  completionIdentity,
  completionJson,
  errorJson,
  errorType,
  sseEvent,
  SSE_DONE,
  streamEvents,
  toWireMessage,
} from './wire.js';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } as const;
const DEFAULT_CUT_CONTENT = 'This reply is cut off before it ends.';
const DEFAULT_TRICKLE_INTERVAL_MS = 100;

/** The faults that stop a response part-way. */
type InterruptFault = CutFault | ResetFault | CutMidChunkFault;

/** Sends a complete JSON response. */
export function sendJson(
  response: ServerResponse,
  status: number,
  json: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...JSON_HEADERS, ...headers, 'content-length': Buffer.byteLength(json) });
  response.end(json);
}

export async function respond(exchange: Exchange, script: Script, defaultLatencyMs: number): Promise<void> {
  const { record, response } = exchange;
  const outcome = await resolveReply(script, record);
  if (exchange.ended) return;
  if ('error' in outcome) {
    record.scriptError = outcome.error;
    if (!(await exchange.wait(defaultLatencyMs))) return;
    sendJson(response, 500, errorJson(outcome.error, 'fake_server_script_error'));
    return;
  }
  const { reply } = outcome;
  if (reply.fault === 'hang') return;
  if (!(await exchange.wait(reply.latencyMs ?? defaultLatencyMs))) return;
  const streaming = record.body.stream === true;
  switch (reply.fault) {
    case undefined:
      return streaming ? streamMessage(exchange, reply) : sendMessage(exchange, reply);
    case 'status':
      return sendStatus(exchange, reply);
    case 'cut':
    case 'reset':
    case 'cutMidChunk':
      return streaming ? interruptStream(exchange, reply) : interruptJson(exchange, reply);
    case 'slowLoris':
      return trickle(exchange, reply, streaming);
    case 'malformed':
      return streaming ? sendMalformedStream(exchange) : sendMalformedJson(exchange);
    case 'raw':
      return sendRaw(exchange, reply);
  }
}

function sendMessage({ record, response }: Exchange, reply: MessageReply): void {
  const message = toWireMessage(reply, record.body, record.index);
  sendJson(response, 200, completionJson(completionIdentity(record.body, record.index), message), requestId(record.index));
}

async function streamMessage(exchange: Exchange, reply: MessageReply): Promise<void> {
  const { record, response } = exchange;
  const events = streamEvents(
    completionIdentity(record.body, record.index),
    toWireMessage(reply, record.body, record.index),
    { includeUsage: record.body.stream_options?.include_usage === true, chunkSize: reply.chunkSize },
  );
  response.writeHead(200, { ...SSE_HEADERS, ...requestId(record.index) });
  const chunkDelayMs = reply.chunkDelayMs ?? 0;
  if (!(chunkDelayMs > 0)) {
    response.end(events.join(''));
    return;
  }
  response.flushHeaders();
  for (const [position, event] of events.entries()) {
    if (position > 0 && !(await exchange.wait(chunkDelayMs))) return;
    response.write(event);
  }
  response.end();
}

function sendStatus({ record, response }: Exchange, fault: StatusFault): void {
  const json =
    fault.body === undefined
      ? errorJson(`fake server: scripted ${fault.status} fault for request #${record.index}`, errorType(fault.status))
      : typeof fault.body === 'string'
        ? fault.body
        : JSON.stringify(fault.body);
  sendJson(response, fault.status, json, { ...requestId(record.index), ...fault.headers });
}

async function interruptStream(exchange: Exchange, fault: InterruptFault): Promise<void> {
  const { record, response } = exchange;
  // No finish_reason and never the final [DONE]: the client must see a stream that stops early.
  const events = streamEvents(
    completionIdentity(record.body, record.index),
    toWireMessage({ content: fault.content ?? DEFAULT_CUT_CONTENT, finishReason: null }, record.body, record.index),
    { includeUsage: false },
  );
  const count = Math.min(Math.max(0, Math.floor(fault.afterChunks)), events.length - 1);
  const pieces: Array<string | Buffer> = events.slice(0, count);
  if (fault.fault === 'cutMidChunk') {
    const next = Buffer.from(events[count] ?? SSE_DONE);
    pieces.push(next.subarray(0, Math.floor(next.length / 2)));
  }
  if (pieces.length === 0) {
    stop(exchange, fault);
    return;
  }
  response.writeHead(200, { ...SSE_HEADERS, ...requestId(record.index) });
  const chunkDelayMs = fault.chunkDelayMs ?? 0;
  let written: Array<string | Buffer> = [];
  for (const [position, piece] of pieces.entries()) {
    if (chunkDelayMs > 0 && position > 0) {
      response.write(Buffer.concat(written.map((part) => Buffer.from(part))));
      written = [];
      if (!(await exchange.wait(chunkDelayMs))) return;
    }
    written.push(piece);
  }
  // Stop only once the bytes are handed to the OS, or the client might not see them.
  response.write(Buffer.concat(written.map((part) => Buffer.from(part))), () => stop(exchange, fault));
}

function interruptJson(exchange: Exchange, fault: InterruptFault): void {
  const { record, response } = exchange;
  if (fault.fault === 'reset' && !(fault.afterChunks > 0)) {
    stop(exchange, fault);
    return;
  }
  const message = toWireMessage({ content: fault.content ?? DEFAULT_CUT_CONTENT }, record.body, record.index);
  const json = completionJson(completionIdentity(record.body, record.index), message);
  const endsCleanly = fault.fault === 'cutMidChunk' && fault.close === 'end';
  // A clean end must not promise a length it does not send.
  const length = endsCleanly ? {} : { 'content-length': Buffer.byteLength(json) };
  response.writeHead(200, { ...JSON_HEADERS, ...requestId(record.index), ...length });
  response.write(json.slice(0, Math.floor(json.length / 2)), () => stop(exchange, fault));
}

/** Ends an interrupted response the way its fault says: a close, a reset, or a clean end. */
function stop(exchange: Exchange, fault: InterruptFault): void {
  if (fault.fault === 'reset') exchange.reset();
  else if (fault.fault === 'cutMidChunk' && fault.close === 'end' && exchange.response.headersSent) exchange.response.end();
  else exchange.destroy();
}

async function trickle(exchange: Exchange, fault: SlowLorisFault, streaming: boolean): Promise<void> {
  const { record, response } = exchange;
  const intervalMs = Math.max(1, fault.intervalMs ?? DEFAULT_TRICKLE_INTERVAL_MS);
  response.writeHead(200, { ...(streaming ? SSE_HEADERS : JSON_HEADERS), ...requestId(record.index) });
  if (streaming && fault.content !== undefined) {
    const events = streamEvents(
      completionIdentity(record.body, record.index),
      toWireMessage({ content: fault.content, finishReason: null }, record.body, record.index),
      { includeUsage: false },
    );
    response.write(events.slice(0, -1).join(''));
  } else {
    response.flushHeaders();
  }
  // An SSE comment, or whitespace before the JSON: bytes the client reads and a parser skips.
  const filler = streaming ? ': still working\n\n' : ' ';
  while (await exchange.wait(intervalMs)) response.write(filler);
}

function sendMalformedJson({ record, response }: Exchange): void {
  sendJson(response, 200, `{"id":"chatcmpl-fake-${record.index}","object":"chat.completion","choices":[{`);
}

function sendMalformedStream({ record, response }: Exchange): void {
  response.writeHead(200, { ...SSE_HEADERS, ...requestId(record.index) });
  response.end(sseEvent(`{"id":"chatcmpl-fake-${record.index}","choices":[{"delta":{"content":"broken`) + SSE_DONE);
}

function sendRaw({ record, response }: Exchange, raw: RawReply): void {
  const status = raw.status ?? 200;
  if (raw.events) {
    response.writeHead(status, { ...SSE_HEADERS, ...requestId(record.index), ...raw.headers });
    response.end(raw.events.join(''));
    return;
  }
  sendJson(response, status, typeof raw.body === 'string' ? raw.body : JSON.stringify(raw.body ?? null), { ...requestId(record.index), ...raw.headers });
}

function requestId(index: number): Record<string, string> {
  return { 'x-request-id': `req_fake_${index}` };
}
