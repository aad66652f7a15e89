/**
 * The fake OpenAI-compatible server: a `node:http` server on 127.0.0.1 that
 * answers `POST /v1/chat/completions` from a script and records every request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Exchange } from './exchange.js';
import { parseChatBody } from './request-body.js';
import { respond, sendJson } from './respond.js';
import type { FakeServer, FakeServerOptions, RecordedRequest } from './types.js';
import { errorJson } from './wire.js';

const COMPLETIONS_PATH = '/v1/chat/completions';
const DEFAULT_WAIT_TIMEOUT_MS = 5_000;

type Listener = (request: RecordedRequest) => void;

interface Waiter {
  count: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Starts a fake OpenAI-compatible chat completions server on 127.0.0.1 (a free
 * port). It answers JSON or SSE as the request asks, records every request,
 * notices client aborts at once, and answers 500 with a clear message when the
 * script has no reply. Bad JSON gets a 400 and other paths a 404; those are not
 * recorded.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai';
 * import { reply, startFakeServer } from 'subagents/testing';
 *
 * const server = await startFakeServer({
 *   script: [reply.toolCall('get_weather', { city: 'Oslo' }), reply.text('It is sunny.')],
 * });
 * const client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
 * const first = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Weather?' }] });
 * first.choices[0]?.message.tool_calls; // [{ id: 'call_0_0', function: { name: 'get_weather', … } }]
 * await server.close();
 * ```
 */
export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const { script } = options;
  const latencyMs = options.latencyMs ?? 0;
  if (typeof script !== 'function' && !Array.isArray(script)) {
    throw new TypeError(`Expected \`script\` to be a function or an array of replies, got \`${script === null ? 'null' : typeof script}\``);
  }
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new TypeError(`Expected \`latencyMs\` to be a finite number >= 0, got \`${latencyMs}\``);
  }

  const requests: RecordedRequest[] = [];
  const requestListeners = new Set<Listener>();
  const abortListeners = new Set<Listener>();
  const exchanges = new Set<Exchange>();
  const waiters = new Set<Waiter>();
  let closing: Promise<void> | undefined;

  const endExchange = (exchange: Exchange) => exchanges.delete(exchange);
  const notifyAbort = (record: RecordedRequest) => callAll(abortListeners, record);

  function accept(request: IncomingMessage, response: ServerResponse, text: string): void {
    const parsed = parseChatBody(text);
    if ('error' in parsed) {
      sendJson(response, 400, errorJson(parsed.error, 'invalid_request_error'));
      return;
    }
    const record: RecordedRequest = {
      index: requests.length,
      body: parsed.body,
      headers: request.headers,
      receivedAt: performance.now(),
      aborted: false,
      abortedAt: null,
      completed: false,
      scriptError: null,
    };
    requests.push(record);
    const exchange = new Exchange(request, response, record, endExchange, notifyAbort);
    exchanges.add(exchange);
    callAll(requestListeners, record);
    for (const waiter of waiters) {
      if (requests.length < waiter.count) continue;
      clearTimeout(waiter.timer);
      waiters.delete(waiter);
      waiter.resolve();
    }
    respond(exchange, script, latencyMs).catch((error: unknown) => {
      if (exchange.ended) return;
      if (response.headersSent) exchange.destroy();
      else sendJson(response, 500, errorJson(`fake server internal error: ${String(error)}`, 'server_error'));
    });
  }

  const server = createServer((request, response) => {
    const path = request.url?.split('?', 1)[0] ?? '';
    if (path !== COMPLETIONS_PATH || request.method !== 'POST') {
      request.resume();
      const status = path === COMPLETIONS_PATH ? 405 : 404;
      const message = `fake server: no route for ${request.method} ${path}; it only serves POST ${COMPLETIONS_PATH}`;
      sendJson(response, status, errorJson(message, 'invalid_request_error'));
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => accept(request, response, Buffer.concat(chunks).toString('utf8')));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo; // always an AddressInfo for a TCP listener

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    onRequest(listener) {
      requestListeners.add(listener);
      return () => requestListeners.delete(listener);
    },
    onAbort(listener) {
      abortListeners.add(listener);
      return () => abortListeners.delete(listener);
    },
    waitForRequests(count, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS) {
      if (requests.length >= count) return Promise.resolve();
      if (closing) return Promise.reject(new Error(waitFailure(count, requests.length, 'the server is closed')));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(waitFailure(count, requests.length, `${timeoutMs} ms passed`)));
          }, timeoutMs).unref(),
        };
        waiters.add(waiter);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const exchange of exchanges) exchange.destroy();
        for (const waiter of waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(waitFailure(waiter.count, requests.length, 'the server closed')));
        }
        waiters.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function waitFailure(expected: number, arrived: number, reason: string): string {
  return `fake server: expected ${expected} requests, ${arrived} arrived before ${reason}`;
}

/** Calls every listener; one that throws is reported as uncaught without stopping the server. */
function callAll(listeners: ReadonlySet<Listener>, record: RecordedRequest): void {
  for (const listener of listeners) {
    try {
      listener(record);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
