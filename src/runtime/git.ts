/**
 * Running git: one command at a time as a child process (`execFile`, never a
 * shell), in a directory given with `-C` (the process-wide working directory
 * is never changed), with the caller's environment minus the variables that
 * would point git at another repository.
 */
import { execFile } from 'node:child_process';

/** Longest a git command may take before it is killed. */
const GIT_TIMEOUT_MS = 120_000;

/** Variables that would make git use another repository, index or work tree than the one `-C` names. */
const REPOSITORY_VARIABLES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_NAMESPACE', 'GIT_PREFIX'];

/** A git command that could not run or exited with a failure. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    /** git's own message (its standard error), or why it could not run. */
    readonly detail: string,
    /** Its exit code; `null` when it did not run to an exit. */
    readonly exitCode: number | null,
  ) {
    super(`\`git ${args.join(' ')}\` failed: ${detail}`);
    this.name = 'GitCommandError';
  }
}

/** Options of {@link git}. */
export interface GitOptions {
  /** Extra environment variables (`GIT_INDEX_FILE` for a scratch index). */
  env?: Record<string, string>;
  /** Stops the command. @default a timeout of two minutes */
  signal?: AbortSignal;
}

/**
 * Runs `git -C <cwd> <args…>` and resolves with its standard output.
 *
 * @throws {GitCommandError} when git is missing, fails or is stopped.
 * @example
 * ```ts
 * const head = (await git('/path/to/repository', ['rev-parse', 'HEAD'])).trim();
 * ```
 */
export function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env };
  for (const name of REPOSITORY_VARIABLES) if (!options.env || !(name in options.env)) delete env[name];
  const signal = options.signal ?? AbortSignal.timeout(GIT_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', cwd, ...args], { env, signal, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new GitCommandError(args, 'git is not installed (no `git` on PATH)', null));
      if (signal.aborted) return reject(new GitCommandError(args, 'it was stopped before it ended', null));
      const detail = stderr.trim() || stdout.trim() || error.message;
      reject(new GitCommandError(args, detail, typeof code === 'number' ? code : null));
    });
  });
}

/** Like {@link git}, but resolves with `false` instead of failing with exit code 1 (a `--verify --quiet` that found nothing). */
export async function gitTest(cwd: string, args: readonly string[]): Promise<boolean> {
  try {
    await git(cwd, args);
    return true;
  } catch (error) {
    if (error instanceof GitCommandError && error.exitCode === 1) return false;
    throw error;
  }
}

/**
 * Runs work one at a time per key (a repository), in the order asked:
 * concurrent `git worktree add` and branch updates in one repository race
 * on git's lock files.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
