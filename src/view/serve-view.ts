/**
 * The local web view: a `node:http` server on loopback that serves the page
 * (HTML, script and style shipped in the package; nothing from the internet),
 * the tree as JSON, live updates as server-sent events, and the controls.
 *
 * Every request must name a loopback `Host` and, when it has one, a loopback
 * `Origin` (a page elsewhere that resolves its name to 127.0.0.1 cannot reach
 * it); every data and control request must carry the token printed with the
 * URL. Anything else is refused with 403 and a JSON error saying why.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../agent/runtime-api.js';
import { BadArgumentError, SubagentsError } from '../errors.js';
import { handleMachine } from '../machines/handle.js';
import { bearerMatches, generateToken, isAllowedOrigin, isLoopbackHost, isLoopbackName } from '../mcp/http-guard.js';
import { PAGE_HTML, PAGE_STYLE } from './page-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import { runtimeSource } from './runtime-source.js';
import { describeMachine } from './statechart.js';
import type { ViewControl, ViewSource, ViewState } from './view-types.js';

/** Options of {@link serveView}. */
export interface ViewOptions {
  /** The port; 0 picks a free one. @default 0 */
  port?: number;
  /** A loopback address to bind to. @default '127.0.0.1' */
  host?: string;
  /** The token every data and control request must carry, at least 16 characters. @default 32 random bytes, base64url */
  token?: string;
}

/** A running view. */
export interface ViewServer {
  /** The page to open, token included: `http://127.0.0.1:<port>/?token=…`. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Ends the live connections and stops listening (the runtime goes on). Idempotent. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const MIN_TOKEN_LENGTH = 16;
/** Live updates are batched: at most one per this many milliseconds. */
const PUSH_MS = 100;
/** A comment on idle streams, so proxies and browsers keep them open. */
const HEARTBEAT_MS = 15_000;

const SECURITY_HEADERS = {
  // Only this server's own script, style and data: no remote code, fonts or frames.
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Serves a live view of `runtime` on loopback: the tree of handles, each
 * handle's statechart, queue, runs and log, totals, pending approvals, and
 * controls (interrupt, cancel, close, resume, send, approve).
 *
 * @throws {BadArgumentError} for a port out of range, a host that is not loopback, or a short token.
 * @example
 * ```ts
 * const runtime = createRuntime({ run: async (input) => `done: ${input}` });
 * const view = await serveView(runtime, { port: 4321 });
 * console.log(`Open ${view.url}`); // http://127.0.0.1:4321/?token=…
 * runtime.spawn({ message: 'first task' });
 * // … later
 * await view.close();
 * await runtime.shutdown();
 * ```
 */
export async function serveView(runtime: Runtime, options: ViewOptions = {}): Promise<ViewServer> {
  validateOptions(options);
  return serveSource(runtimeSource(runtime), options);
}

function validateOptions(options: ViewOptions): void {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object', options);
  const { port = 0, host = '127.0.0.1', token } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new BadArgumentError('port', 'an integer from 0 to 65535', port);
  if (typeof host !== 'string' || !isLoopbackName(host)) throw new BadArgumentError('host', 'a loopback address (127.0.0.1, ::1 or localhost)', host);
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    // Never echo the value: it is meant to be a secret.
    throw new BadArgumentError('token', `a string of at least ${MIN_TOKEN_LENGTH} characters without spaces`, typeof token === 'string' ? `${token.length} characters` : typeof token);
  }
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The tree as pushed to the page: long texts cut, so each update stays small. */
function treeOf(state: ViewState): ViewState {
  const cut = (text: string | null) => (text !== null && text.length > 160 ? `${text.slice(0, 159)}…` : text);
  return {
    ...state,
    handles: state.handles.map((handle) => ({
      ...handle,
      snapshot: { ...handle.snapshot, lastInput: cut(handle.snapshot.lastInput), lastOutput: cut(handle.snapshot.lastOutput), partialOutput: cut(handle.snapshot.partialOutput), queuedPreview: cut(handle.snapshot.queuedPreview) },
    })),
  };
}

/**
 * Serves any view source (a runtime, or a store read from disk).
 * @internal
 */
export async function serveSource(source: ViewSource, options: ViewOptions = {}): Promise<ViewServer> {
  validateOptions(options);
  const { port = 0, host = '127.0.0.1', token = generateToken() } = options;
  const chart = JSON.stringify(describeMachine(handleMachine));
  const streams = new Set<ServerResponse>();
  let stopListening: (() => void) | null = null;
  let pushTimer: ReturnType<typeof setTimeout> | null = null;

  const push = () => {
    pushTimer = null;
    const data = `event: state\ndata: ${JSON.stringify(treeOf(source.state()))}\n\n`;
    for (const stream of streams) stream.write(data);
  };
  // The source is followed only while a page is connected: an unwatched view costs no serialisation.
  const follow = () => {
    stopListening ??= source.onChange(() => {
      pushTimer ??= setTimeout(push, PUSH_MS);
    });
  };
  const unfollow = () => {
    stopListening?.();
    stopListening = null;
    if (pushTimer !== null) clearTimeout(pushTimer);
    pushTimer = null;
  };
  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure = error instanceof HttpFailure ? error : controlFailure(error);
      if (!response.headersSent) sendJson(response, failure.status, { error: failure.message });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!isLoopbackHost(request.headers.host)) throw new HttpFailure(403, `Forbidden: the Host header must name a loopback address, got \`${String(request.headers.host ?? 'none')}\``);
    const origin = request.headers.origin;
    if (!isAllowedOrigin(origin)) throw new HttpFailure(403, `Forbidden: requests from the origin \`${String(origin)}\` are refused; only this machine's loopback pages may use the view`);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const route = url.pathname;
    if (request.method === 'GET' && route === '/') return sendText(response, 200, 'text/html; charset=utf-8', PAGE_HTML);
    if (request.method === 'GET' && route === '/assets/view.js') return sendText(response, 200, 'text/javascript; charset=utf-8', PAGE_SCRIPT);
    if (request.method === 'GET' && route === '/assets/view.css') return sendText(response, 200, 'text/css; charset=utf-8', PAGE_STYLE);
    if (!route.startsWith('/api/')) throw new HttpFailure(404, `Not found: ${request.method ?? 'GET'} ${route}`);
    const given = request.headers.authorization ?? `Bearer ${url.searchParams.get('token') ?? ''}`;
    if (!bearerMatches(token, given)) {
      throw new HttpFailure(403, 'Forbidden: a missing or wrong token; open the URL printed when the view started (it carries `?token=`)');
    }
    if (request.method === 'GET') return get(route, response);
    if (request.method !== 'POST') throw new HttpFailure(405, `Method not allowed: ${request.method ?? ''} ${route}`);
    if (source.control === null) throw new HttpFailure(409, 'This view is read only: it shows a store, not a runtime in this process');
    const body = await readJson(request);
    sendJson(response, 200, { ok: true, result: source.control(controlOf(route, body)) });
  }

  function get(route: string, response: ServerResponse): void {
    if (route === '/api/state') return sendJson(response, 200, treeOf(source.state()));
    if (route === '/api/statechart') return sendText(response, 200, 'application/json; charset=utf-8', chart);
    const detail = /^\/api\/handles\/([^/]+)$/.exec(route);
    if (detail) {
      const id = decodeURIComponent(detail[1]!);
      const found = source.detail(id);
      if (found === null) throw new HttpFailure(404, `Unknown handle \`${id}\``);
      return sendJson(response, 200, found);
    }
    if (route === '/api/events') {
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
      response.write(`retry: 1000\nevent: state\ndata: ${JSON.stringify(treeOf(source.state()))}\n\n`);
      streams.add(response);
      follow();
      response.on('close', () => {
        streams.delete(response);
        if (streams.size === 0) unfollow();
      });
      return;
    }
    throw new HttpFailure(404, `Not found: GET ${route}`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${bound}/?token=${encodeURIComponent(token)}`,
    port: bound,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        unfollow();
        clearInterval(heartbeat);
        for (const stream of streams) stream.end();
        streams.clear();
        source.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The control a POST asks for, checked. */
function controlOf(route: string, body: Record<string, unknown>): ViewControl {
  const approval = /^\/api\/approvals\/([^/]+)$/.exec(route);
  if (approval) {
    const { approve, reason } = body;
    if (typeof approve !== 'boolean') throw new HttpFailure(400, `Expected \`approve\` to be true or false, got ${JSON.stringify(approve) ?? 'nothing'}`);
    if (reason !== undefined && typeof reason !== 'string') throw new HttpFailure(400, 'Expected `reason` to be a string');
    return { action: 'approve', requestId: decodeURIComponent(approval[1]!), approve, ...(reason === undefined ? {} : { reason }) };
  }
  const match = /^\/api\/handles\/([^/]+)\/(interrupt|cancel|close|resume|send)$/.exec(route);
  if (!match) throw new HttpFailure(404, `Not found: POST ${route}; the controls are /api/handles/<id>/(interrupt|cancel|close|resume|send) and /api/approvals/<requestId>`);
  const id = decodeURIComponent(match[1]!);
  const action = match[2] as 'interrupt' | 'cancel' | 'close' | 'resume' | 'send';
  if (action !== 'send') return { action, id };
  const { message, interrupt = false } = body;
  if (typeof message !== 'string' || message.trim() === '') throw new HttpFailure(400, 'Expected `message` to be a non-empty string');
  if (typeof interrupt !== 'boolean') throw new HttpFailure(400, 'Expected `interrupt` to be true or false');
  return { action, id, message, interrupt };
}

/** What a control's failure becomes: a bad argument 400, another refusal of the runtime 409. */
function controlFailure(error: unknown): HttpFailure {
  if (error instanceof BadArgumentError) return new HttpFailure(400, error.message);
  if (error instanceof SubagentsError) return new HttpFailure(409, error.message);
  return new HttpFailure(500, `The view failed: ${error instanceof Error ? error.message : String(error)}`);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, `The request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpFailure(400, 'Expected a JSON body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpFailure(400, 'Expected a JSON object as the body');
  return parsed as Record<string, unknown>;
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  sendText(response, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function sendText(response: ServerResponse, status: number, type: string, text: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
