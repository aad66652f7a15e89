/**
 * The inspector's relay, bound to loopback: the page that embeds the hosted
 * Stately inspector and a WebSocket server that passes the run's events to
 * it, as `@statelyai/inspect/server` does, but listening on 127.0.0.1 only
 * (that one listens on every interface and takes no host) and refusing
 * requests whose `Host` or `Origin` is not loopback. It keeps the last 200
 * events for a page that connects late.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import { isAllowedOrigin, isLoopbackHost } from '../mcp/http-guard.js';

/** The hosted viewer the page embeds: it needs the internet, the relay does not. */
export const HOSTED_INSPECTOR_URL = 'https://stately.ai/inspect';
const KEPT_EVENTS = 200;

interface RelaySocket {
  readonly readyState: number;
  send(data: string): void;
  on(event: 'message', listener: (data: { toString(): string }) => void): void;
  terminate(): void;
}
interface RelaySocketServer {
  readonly clients: Set<RelaySocket>;
  on(event: 'connection', listener: (socket: RelaySocket) => void): void;
  close(callback?: () => void): void;
}
interface WsModule {
  WebSocketServer: new (options: {
    server: Server;
    verifyClient: (info: { origin?: string; req: IncomingMessage }, answer: (allowed: boolean, code?: number, message?: string) => void) => void;
  }) => RelaySocketServer;
}
const OPEN = 1;

/** `ws`, as `@statelyai/inspect` itself resolves it (its dependency, so present whenever it is). */
function loadWs(): WsModule {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve('@statelyai/inspect/server'))('ws') as WsModule;
}

function bridgePage(port: number): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Stately Inspector — subagents</title>
  <style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${HOSTED_INSPECTOR_URL}"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        buffer.forEach((event) => iframe.contentWindow.postMessage(event, '*'));
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://127.0.0.1:${port}');
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}

/** A relay listening on 127.0.0.1:`port`. */
export interface InspectorRelay {
  stop(): Promise<void>;
}

/**
 * Starts the relay; resolves once it listens.
 * @throws the listen error (`EADDRINUSE` …) as is.
 */
export async function startInspectorRelay(port: number): Promise<InspectorRelay> {
  const { WebSocketServer } = loadWs();
  const page = bridgePage(port);
  const http = createServer((request, response) => {
    if (!isLoopbackHost(request.headers.host) || !isAllowedOrigin(request.headers.origin)) {
      response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Forbidden: the inspector relay answers loopback pages only' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  // The hosted viewer's page is not loopback, but it never connects here: the bridge page does, and relays by postMessage.
  const sockets = new WebSocketServer({
    server: http,
    verifyClient: ({ origin, req }, answer) => {
      if (isLoopbackHost(req.headers.host) && isAllowedOrigin(origin)) answer(true);
      else answer(false, 403, 'Forbidden: the inspector relay answers loopback pages only');
    },
  });
  const kept: string[] = [];
  sockets.on('connection', (socket) => {
    for (const message of kept) socket.send(message);
    socket.on('message', (data) => {
      const message = data.toString();
      kept.push(message);
      if (kept.length > KEPT_EVENTS) kept.shift();
      for (const client of sockets.clients) if (client !== socket && client.readyState === OPEN) client.send(message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return stopped;
    },
  };
}
