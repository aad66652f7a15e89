/**
 * Where a handle's runs execute: in this process (the default), or elsewhere
 * (`bullmqExecutor`: on workers over Redis). The handle charts, the
 * supervisor and the store stay in the runtime's process whatever the
 * executor; only the run (the model loop and its tools) moves.
 */
import type { Logger } from '../logger.js';
import type { RunHandleInfo, RunOf } from './run-types.js';

/** What the runtime gives an executor when it binds it. */
export interface ExecutorBinding {
  /** The run as it executes in this process. */
  local: RunOf<unknown>;
  /**
   * True for a handle whose runs must stay in this process: it has worktree
   * isolation, or tools only this runtime has (the delegation tools).
   */
  mustRunLocally(this: void, handle: RunHandleInfo): boolean;
  logger: Logger;
  /** Redacted from every error text that comes back. */
  secrets: readonly string[];
}

/**
 * An executor: made once, given to `createRuntime({ executor })`, bound by
 * that runtime (one runtime per executor), closed at its shutdown.
 */
export interface RunExecutor {
  readonly kind: 'run-executor';
  /** A short name for logs (`'in-process'`, `'bullmq'`). */
  readonly name: string;
  /** The run of every handle of a model run. Throws when already bound. */
  bind(binding: ExecutorBinding): RunOf<unknown>;
  /** Stops what the executor started (connections); runs are over by then. */
  close(): Promise<void>;
}

/** True for an executor. */
export const isRunExecutor = (value: unknown): value is RunExecutor =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'run-executor' && typeof (value as { bind?: unknown }).bind === 'function';

/**
 * Thrown by a run whose work was lost outside the runtime's process (its
 * worker died, its queue vanished): the run ends `interrupted` with this
 * message as its reason, like a run lost on a restart, never `error`.
 */
export class RunLostError extends Error {
  readonly code = 'run_lost';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RunLostError';
  }
}
