/**
 * `subagents demo --redis <url> --workers N`: N local worker processes
 * (`subagents worker`, real child processes) calling the demo's model, which
 * take the subagents' runs off the queue; stopped gracefully at the end.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadRedisPackages } from '../distributed/connection.js';
import type { FakeServer } from '../testing/index.js';
import type { DemoOptions } from './args.js';
import { safeUrl } from './endpoint.js';
import type { Endpoint } from './endpoint.js';

/** How long a worker process may take to start, and to stop once told. */
const START_MS = 20_000;
const STOP_MS = 15_000;

/** Worker processes of the demo. */
export interface LocalWorkers {
  /** Their process ids. */
  readonly pids: number[];
  /** Runs each worker started, by worker id, from what the workers printed. */
  runsPerWorker(): Map<string, number>;
  /** SIGTERM to each (they finish the runs in flight), then waits for them; resolves with what went wrong, if anything. */
  stop(): Promise<string[]>;
}

export interface LocalWorkersOptions {
  count: number;
  redis: string;
  queue: string;
  /** The directory their file tools see. */
  dir: string;
  /** The model endpoint their runs call, and its key (passed in their environment, never on the command line). */
  baseURL: string;
  apiKey: string | null;
  /** Each line a worker prints. */
  onLine(line: string): void;
}

const ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

/** Starts the workers and resolves once each takes runs; if one does not, stops them all and rejects saying why. */
export async function startLocalWorkers(options: LocalWorkersOptions): Promise<LocalWorkers> {
  const runs = new Map<string, number>();
  const children: Array<{ child: ChildProcess; exited: Promise<number | null>; stderr: () => string }> = [];
  const started = Array.from({ length: options.count }, () => {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_BASE_URL: options.baseURL };
    if (options.apiKey !== null) env.OPENAI_API_KEY = options.apiKey;
    else delete env.OPENAI_API_KEY;
    const child = spawn(process.execPath, [ENTRY, 'worker', '--redis', options.redis, '--queue', options.queue, '--dir', options.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let buffered = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    children.push({ child, exited, stderr: () => stderr });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a worker process did not start in ${START_MS / 1000} s (is Redis reachable at the --redis URL?)${stderr ? `: ${stderr.trim()}` : ''}`)), START_MS);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`a worker process exited with code ${code} before it took runs${stderr ? `: ${stderr.trim()}` : ''}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (/^worker \S+ takes runs/.test(line)) {
            clearTimeout(timer);
            resolve();
          }
          const run = /^worker (\S+) runs /.exec(line);
          if (run) runs.set(run[1]!, (runs.get(run[1]!) ?? 0) + 1);
          options.onLine(line);
        }
      });
    });
  });

  const stop = async (): Promise<string[]> => {
    const problems: string[] = [];
    await Promise.all(children.map(async ({ child, exited, stderr }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) problems.push(`worker process ${child.pid} exited with ${code ?? 'a signal'}${stderr() ? `: ${stderr().trim()}` : ''}`);
    }));
    return problems;
  };

  try {
    await Promise.all(started);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pids: children.map(({ child }) => child.pid!), runsPerWorker: () => new Map(runs), stop };
}

/**
 * The demo's workers for `--redis`: says where the runs go, starts `--workers`
 * local ones on the demo's model (none with `--workers 0`). Resolves `null`
 * after saying why on stderr when they cannot start.
 */
export async function startWorkersFor(
  options: Pick<DemoOptions, 'redis' | 'workers' | 'queue'> & { redis: string },
  deps: { model: FakeServer | null; endpoint: Endpoint; projectDir: string; print(this: void, line: string): void; note(this: void, line: string): void; stderr: { write(text: string): unknown } },
): Promise<LocalWorkers | null> {
  const where = `queue ${options.queue} on ${safeUrl(options.redis)}`;
  try {
    await loadRedisPackages();
  } catch (error) {
    deps.stderr.write(`subagents: ${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
  if (options.workers === 0) {
    deps.print(`Workers: the subagents' runs go to ${where}, to workers started separately (subagents worker --redis <url> --queue ${options.queue})`);
    return { pids: [], runsPerWorker: () => new Map(), stop: () => Promise.resolve([]) };
  }
  const endpoint = deps.endpoint.kind === 'scripted' ? { baseURL: deps.model!.url, apiKey: 'scripted' } : { baseURL: deps.endpoint.baseURL, apiKey: deps.endpoint.apiKey };
  try {
    const workers = await startLocalWorkers({ count: options.workers, redis: options.redis, queue: options.queue, dir: deps.projectDir, ...endpoint, onLine: deps.note });
    deps.print(`Workers: ${options.workers} local worker process${options.workers === 1 ? '' : 'es'} (pid ${workers.pids.join(', ')}) take the subagents' runs from ${where}`);
    return workers;
  } catch (error) {
    deps.stderr.write(`subagents: ${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
}
