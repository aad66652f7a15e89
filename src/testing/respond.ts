/**
 * Writes the scripted reply of one exchange: a completion (JSON or SSE) or a
 * fault. Every delay goes through the exchange, so an abort or the server
 * closing cancels it.
 */
import type { ServerResponse } from 'node:http';
import type { Exchange } from './exchange.js';
import { resolveReply } from './script.js';
import type { CutFault, MessageReply, Script, StatusFault } from './types.js';
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
      return streaming ? cutStream(exchange, reply) : cutJson(exchange, reply);
    case 'malformed':
      return streaming ? sendMalformedStream(exchange) : sendMalformedJson(exchange);
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

async function cutStream(exchange: Exchange, fault: CutFault): Promise<void> {
  const { record, response } = exchange;
  const events = streamEvents(
    completionIdentity(record.body, record.index),
    toWireMessage({ content: fault.content ?? DEFAULT_CUT_CONTENT }, record.body, record.index),
    { includeUsage: false },
  );
  // Never the final [DONE]: the client must see a stream that stops early.
  const count = Math.min(Math.max(0, Math.floor(fault.afterChunks)), events.length - 1);
  if (count === 0) {
    exchange.destroy();
    return;
  }
  response.writeHead(200, { ...SSE_HEADERS, ...requestId(record.index) });
  const chunkDelayMs = fault.chunkDelayMs ?? 0;
  let written = '';
  for (const [position, event] of events.slice(0, count).entries()) {
    if (chunkDelayMs > 0 && position > 0) {
      response.write(written);
      written = '';
      if (!(await exchange.wait(chunkDelayMs))) return;
    }
    written += event;
  }
  // Destroy only once the bytes are handed to the OS, or the client might not see them.
  response.write(written, () => exchange.destroy());
}

function cutJson(exchange: Exchange, fault: CutFault): void {
  const { record, response } = exchange;
  const message = toWireMessage({ content: fault.content ?? DEFAULT_CUT_CONTENT }, record.body, record.index);
  const json = completionJson(completionIdentity(record.body, record.index), message);
  response.writeHead(200, { ...JSON_HEADERS, ...requestId(record.index), 'content-length': Buffer.byteLength(json) });
  response.write(json.slice(0, Math.floor(json.length / 2)), () => exchange.destroy());
}

function sendMalformedJson({ record, response }: Exchange): void {
  sendJson(response, 200, `{"id":"chatcmpl-fake-${record.index}","object":"chat.completion","choices":[{`);
}

function sendMalformedStream({ record, response }: Exchange): void {
  response.writeHead(200, { ...SSE_HEADERS, ...requestId(record.index) });
  response.end(sseEvent(`{"id":"chatcmpl-fake-${record.index}","choices":[{"delta":{"content":"broken`) + SSE_DONE);
}

function requestId(index: number): Record<string, string> {
  return { 'x-request-id': `req_fake_${index}` };
}
