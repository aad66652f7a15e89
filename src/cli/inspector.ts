/**
 * `--inspect`: the Stately inspector's local relay from `@statelyai/inspect`
 * (an HTTP page that embeds the inspector UI, plus a WebSocket server that
 * relays events to it) and a WebSocket inspector that streams the run's
 * sanitized actor events to the relay. Loaded with `import()`, so the
 * package costs nothing unless asked for.
 */
import { connect, createServer } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import { sanitizeInspectionObserver } from '../runtime/inspection.js';

/** A running relay and the observer to give `createRuntime({ inspect })`. */
export interface InspectorSession {
  /** The page to open in a browser. */
  readonly pageUrl: string;
  /** Where inspection events go (and where a receiver connects). */
  readonly socketUrl: string;
  readonly observer: Observer<InspectionEvent>;
  /** Closes the inspector's socket and stops the relay. */
  stop(): Promise<void>;
}

/** Thrown when the relay cannot start (port taken, package missing). */
export class InspectorStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InspectorStartError';
  }
}

/**
 * Starts the relay on `port` and connects an inspector to it over loopback.
 * No browser is opened.
 *
 * @param secrets - exact values redacted from every event (the API key).
 */
export async function startInspector(port: number, secrets: readonly string[]): Promise<InspectorSession> {
  let inspectModule: typeof import('@statelyai/inspect');
  let serverModule: typeof import('@statelyai/inspect/server');
  try {
    [inspectModule, serverModule] = await Promise.all([import('@statelyai/inspect'), import('@statelyai/inspect/server')]);
  } catch (error) {
    throw new InspectorStartError('`--inspect` needs the `@statelyai/inspect` package; install it with `npm install @statelyai/inspect`', {
      cause: error,
    });
  }
  // The relay reports a taken port as an uncaught error: check first.
  await assertPortFree(port);
  const server = serverModule.createInspectorServer({ port, autoOpen: false });
  await waitUntilListening(port);
  const socketUrl = `ws://127.0.0.1:${port}`;
  const inspector = inspectModule.createWebSocketInspector({ url: socketUrl, autoStart: false });
  inspector.start();
  // Stopping the inspector while its socket still connects makes it retry every 5 s, forever: wait for the connection.
  await waitUntilOpen(inspector.adapter);
  let stopped: Promise<void> | undefined;
  return {
    pageUrl: `http://localhost:${port}`,
    socketUrl,
    observer: sanitizeInspectionObserver(inspector.inspect, { secrets }),
    stop() {
      stopped ??= (async () => {
        // Events are converted on a zero-delay timer: let the last ones out before closing.
        await new Promise((resolve) => setTimeout(resolve, 20));
        inspector.stop();
        server.stop();
      })();
      return stopped;
    },
  };
}

/** Polls the adapter's connection state (not part of its typed API; skipped if it is absent). */
async function waitUntilOpen(adapter: object, timeoutMs = 3_000): Promise<void> {
  const state = () => (adapter as { status?: unknown }).status;
  if (state() === undefined) return;
  const deadline = performance.now() + timeoutMs;
  while (state() !== 'open') {
    if (performance.now() > deadline) throw new InspectorStartError('The inspector could not connect to its relay');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new InspectorStartError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} is already in use; choose another with \`--inspect-port\``
            : `Cannot listen on port ${port} for the inspector: ${error.message}`,
        ),
      );
    });
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

/** Resolves once something accepts connections on 127.0.0.1:`port` (the relay listens asynchronously). */
async function waitUntilListening(port: number, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (performance.now() > deadline) throw new InspectorStartError(`The inspector relay did not start listening on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
