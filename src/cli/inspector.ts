/**
 * `--inspect`: a relay on 127.0.0.1 (a page that embeds the hosted Stately
 * inspector, plus a WebSocket server that relays events to it) and a
 * WebSocket inspector from `@statelyai/inspect` that streams the run's
 * sanitized actor events to the relay. Loaded with `import()`, so the
 * package costs nothing unless asked for.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { sanitizeInspectionObserver } from '../runtime/inspection.js';
import { startInspectorRelay } from './inspector-relay.js';
import type { InspectorRelay } from './inspector-relay.js';

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
  let relay: InspectorRelay;
  try {
    inspectModule = await import('@statelyai/inspect');
  } catch (error) {
    throw new InspectorStartError('`--inspect` needs the `@statelyai/inspect` package; install it with `npm install @statelyai/inspect`', {
      cause: error,
    });
  }
  try {
    relay = await startInspectorRelay(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InspectorStartError(
      code === 'EADDRINUSE'
        ? `Port ${port} is already in use; choose another with \`--inspect-port\``
        : `Cannot listen on 127.0.0.1:${port} for the inspector: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const socketUrl = `ws://127.0.0.1:${port}`;
  const inspector = inspectModule.createWebSocketInspector({ url: socketUrl, autoStart: false });
  inspector.start();
  // Stopping the inspector while its socket still connects makes it retry every 5 s, forever: wait for the connection.
  try {
    await waitUntilOpen(inspector.adapter);
  } catch (error) {
    await relay.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    pageUrl: `http://127.0.0.1:${port}`,
    socketUrl,
    observer: sanitizeInspectionObserver(inspector.inspect, { secrets }),
    stop() {
      stopped ??= (async () => {
        // Events are converted on a zero-delay timer: let the last ones out before closing.
        await new Promise((resolve) => setTimeout(resolve, 20));
        inspector.stop();
        await relay.stop();
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
