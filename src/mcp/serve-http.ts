/**
 * The MCP server over Streamable HTTP on 127.0.0.1. Each MCP session gets a
 * runtime of its own, so it is its own root agent and sees only the handles
 * it spawned; when the session ends, its runtime is shut down and its handles
 * closed, unless `keepHandles` lets their runs go on.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SubagentsRuntime } from '../agent/runtime-api.js';
import { BadArgumentError } from '../errors.js';
import { bearerMatches, generateToken, isAllowedOrigin, isLoopbackHost } from './http-guard.js';
import { loadMcpSdk } from './sdk.js';
import type { McpSdk } from './sdk.js';
import { createMcpSession } from './session.js';
import type { McpSessionOptions } from './options.js';
import type { McpSession } from './session.js';

/** Options of {@link startMcpHttpServer}. */
export interface McpHttpOptions extends McpSessionOptions {
  /** Makes the runtime of one session; called when a client initializes a session. */
  createRuntime: () => SubagentsRuntime;
  /** The port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** The bearer token every request must carry, at least 16 characters. @default 32 random bytes, base64url */
  token?: string;
  /**
   * Keep a session's handles when the session ends: their runs go on, in
   * this process, until they end or the server closes. Nothing can reach
   * them again from MCP (there is no store to reattach from yet).
   * @default false: a session that ends shuts its runtime down, closing its handles
   */
  keepHandles?: boolean;
  /** Sessions open at once; more initialize requests are refused with 503. @default 32 */
  maxSessions?: number;
}

/** A running HTTP server. */
export interface McpHttpServer {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** The bearer token clients must send (`Authorization: Bearer <token>`). */
  readonly token: string;
  /** Sessions open now. */
  readonly sessions: number;
  /** Ends every session (shutting their runtimes down, kept ones too) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Largest request body read, in bytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MIN_TOKEN_LENGTH = 16;

interface OpenSession {
  transport: InstanceType<McpSdk['StreamableHTTPServerTransport']>;
  session: McpSession;
  runtime: SubagentsRuntime;
  ended: Promise<void> | null;
}

/**
 * Starts the MCP server on 127.0.0.1. Requests whose `Host` or `Origin` is
 * not loopback are refused with 403, requests without the bearer token with 401.
 *
 * @throws {McpSdkMissingError} when `@modelcontextprotocol/sdk` is not installed.
 * @throws {BadArgumentError} for a bad option.
 * @example
 * ```ts
 * const server = await startMcpHttpServer({ createRuntime: () => createRuntime({ client: new OpenAI(), model: 'gpt-4.1-mini' }), port: 3100 });
 * console.log(`MCP endpoint ${server.url}, token ${server.token}`);
 * await server.close();
 * ```
 */
export async function startMcpHttpServer(options: McpHttpOptions): Promise<McpHttpServer> {
  const { createRuntime, port = 0, keepHandles = false, maxSessions = 32, token = generateToken(), ...sessionOptions } = options;
  if (typeof createRuntime !== 'function') throw new BadArgumentError('createRuntime', 'a function that returns a runtime', createRuntime);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new BadArgumentError('port', 'an integer from 0 to 65535', port);
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    // Never echo what was given: it is meant to be a secret.
    throw new BadArgumentError('token', `a string of at least ${MIN_TOKEN_LENGTH} characters without spaces`, typeof token === 'string' ? `a string of ${token.length} characters` : token);
  }
  if (typeof keepHandles !== 'boolean') throw new BadArgumentError('keepHandles', 'a boolean', keepHandles);
  if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new BadArgumentError('maxSessions', 'an integer >= 1', maxSessions);
  const sdk = await loadMcpSdk();

  const sessions = new Map<string, OpenSession>();
  const opening = new Set<OpenSession>();
  const kept = new Set<SubagentsRuntime>();
  let closing = false;

  const endSession = (open: OpenSession): Promise<void> => {
    open.ended ??= (async () => {
      if (open.transport.sessionId !== undefined) sessions.delete(open.transport.sessionId);
      opening.delete(open);
      await open.session.close().catch(() => {});
      if (keepHandles && !closing) kept.add(open.runtime);
      else await open.runtime.shutdown();
    })();
    return open.ended;
  };

  const openSession = async (request: IncomingMessage, response: ServerResponse, body: unknown) => {
    const runtime = createRuntime();
    const session = createMcpSession(sdk, runtime, sessionOptions);
    const open: OpenSession = {
      session,
      runtime,
      ended: null,
      transport: new sdk.StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, open);
          opening.delete(open);
        },
      }),
    };
    opening.add(open);
    session.server.onclose = () => void endSession(open);
    await session.server.connect(open.transport);
    await open.transport.handleRequest(request, response, body);
    // An initialize the transport refused opened nothing.
    if (open.transport.sessionId === undefined || !sessions.has(open.transport.sessionId)) await endSession(open);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (!isLoopbackHost(request.headers.host)) {
      return refuse(response, 403, `Forbidden: expected a loopback Host (127.0.0.1, localhost, [::1]), got ${shown(request.headers.host)}`);
    }
    if (!isAllowedOrigin(request.headers.origin)) {
      return refuse(response, 403, `Forbidden: expected no Origin or a loopback one, got ${shown(request.headers.origin)}`);
    }
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/mcp') return refuse(response, 404, 'Not found: the MCP endpoint is /mcp');
    if (!bearerMatches(token, request.headers.authorization)) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="subagents"');
      return refuse(response, 401, 'Unauthorized: expected `Authorization: Bearer <token>` with the token the server printed when it started');
    }
    let body: unknown;
    if (request.method === 'POST') {
      const read = await readJson(request);
      if (!read.ok) return refuse(response, read.status, read.message);
      body = read.value;
    }
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const open = sessions.get(sessionId);
      if (!open) return refuse(response, 404, 'Session not found: it ended or never existed; initialize a new one', -32001);
      return open.transport.handleRequest(request, response, body);
    }
    if (request.method !== 'POST' || !sdk.types.isInitializeRequest(body)) {
      return refuse(response, 400, 'Bad Request: expected an initialize request, or an Mcp-Session-Id header of an open session');
    }
    if (closing) return refuse(response, 503, 'The server is shutting down');
    if (sessions.size + opening.size >= maxSessions) return refuse(response, 503, `Too many sessions: at most ${maxSessions} are open at once; end one first`);
    return openSession(request, response, body);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) refuse(response, 500, `Internal error: ${error instanceof Error ? error.message : 'unknown'}`, -32603);
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}/mcp`,
    token,
    get sessions() {
      return sessions.size;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...sessions.values(), ...opening].map(endSession));
        await Promise.all([...kept].map((runtime) => runtime.shutdown()));
        kept.clear();
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}

/** A JSON-RPC error answer with an HTTP status. */
function refuse(response: ServerResponse, status: number, message: string, code = -32000): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** A header value fit to echo: quoted, short. */
function shown(value: string | undefined): string {
  if (value === undefined) return 'none';
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

type ReadBody = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(request: IncomingMessage): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, message: `Payload too large: expected at most ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'Parse error: expected a JSON-RPC message as JSON' };
  }
}
