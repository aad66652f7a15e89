import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../fixtures/distributed-worker.mjs', import.meta.url));

export interface WorkerConfig {
  redis: string;
  baseURL: string;
  queue: string;
  lockDuration?: number;
  stalledInterval?: number;
  concurrency?: number;
  tools?: string[];
}

/** A worker in a child process of its own (`node` on the built package). */
export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** What it wrote to stderr. */
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts a worker process and resolves once it takes jobs. */
export function startWorkerProcess(config: WorkerConfig): Promise<WorkerProcess> {
  const full = { lockDuration: 5_000, stalledInterval: 2_500, concurrency: 16, tools: ['lookup'], ...config };
  const child = spawn(process.execPath, [ENTRY, JSON.stringify(full)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const process_: WorkerProcess = {
    pid: child.pid!,
    child,
    stderr: () => stderr,
    kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
  };
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the worker process did not start in 15 s: ${stderr}`)), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready ')) {
        clearTimeout(timer);
        resolve(process_);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker process exited with ${code} before it was ready: ${stderr}`));
    });
  });
}
