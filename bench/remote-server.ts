/** Starts the two-call fake server in a child process (see server-process.ts) and stops it. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./server-process.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** A fake server running in another process: its URL, and a close that waits for the process to exit. */
export interface RemoteServer {
  url: string;
  /** What the server reports after its URL (P3's streaming server: requests and aborts); returns the function that stops listening. */
  onMessage(listener: (message: unknown) => void): () => void;
  close(): Promise<void>;
}

/** `stream`: P3's server (see server-process.ts) instead of the two-call one. */
export function startServerProcess(latencyMs = 0, mode: 'two-call' | 'stream' = 'two-call'): Promise<RemoteServer> {
  // No inherited flags: a --cpu-prof of the client must not profile the server too.
  const child = fork(SCRIPT, [String(latencyMs), ...(mode === 'stream' ? ['stream'] : [])], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`server-process: no URL within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server-process: exited with code ${code} before it listened`)));
    child.once('message', (message) => {
      clearTimeout(timer);
      const { url } = message as { url: string };
      resolve({
        url,
        onMessage(listener) {
          child.on('message', listener);
          return () => void child.off('message', listener);
        },
        close: async () => {
          if (child.connected) child.send('close');
          await exited;
        },
      });
    });
  });
}
