/**
 * Git worktrees for handles with `isolation: 'worktree'`. A handle's first
 * run makes one: a new branch `subagents/<id>` from the HEAD of the tree its
 * working directory lies in (its parent agent's tree, or the parent's own
 * worktree), checked out in a directory of its own. Its later runs reuse it.
 * It is judged when the handle is closed, cancelled, forgotten or shut down
 * (and when a delegated task ends): removed with its branch when nothing
 * changed, kept when anything did (uncommitted changes, untracked files, new
 * commits), with a diff stat. Git runs in child processes given the
 * directory; the process-wide working directory is never changed.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { WorktreeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { WorktreeReport } from '../types.js';
import { isInsideDirectory } from '../paths.js';
import { abortable } from '../toolkit/abortable.js';
import { git, gitTest, GitCommandError, KeyedQueue } from './git.js';
import type { Store, StoreContents } from '../store/store-types.js';

/** The collection of worktrees in a store. */
export const WORKTREES = 'worktree';

/** The directory under a repository's git common directory where worktrees go by default. */
export const DEFAULT_WORKTREE_FOLDER = 'subagents-worktrees';
/** The prefix of the branches worktrees are made on. */
export const WORKTREE_BRANCH_PREFIX = 'subagents/';

/** What the manager needs of its runtime. */
export interface WorktreeManagerOptions {
  /** Where worktrees are made, absolute; `null`: `<git common dir>/subagents-worktrees` of each repository. */
  directory: string | null;
  logger: Logger;
  /** Calls `onStop` whenever the handle is closed or cancelled (from then on). */
  watch(handleId: string, onStop: () => void): void;
  /** Where each worktree is recorded (before it is made, and as it is judged), so a restore finds it. @default nowhere */
  store?: Store | null;
}

/** What a restore needs to know of a worktree's handle: `null` when the handle is gone (not in the restored store). */
export type RestoredHandleState = { stopped: boolean } | null;

/** A worktree as recorded (in a store too). */
interface Entry {
  report: WorktreeReport;
  /** The git common directory of the repository: git commands that change worktrees or branches are serialised on it. */
  repository: string;
  /** The run's working directory inside the worktree. */
  cwd: string;
}

/** The worktrees of a runtime's handles. */
export interface WorktreeManager {
  /**
   * The working directory of an isolated handle's run: inside its worktree,
   * at the same place relative to the worktree as `cwd` is to its repository.
   * Makes the worktree at the first run (or when the last one was removed).
   *
   * @throws {WorktreeError} when it cannot be made.
   */
  acquire(this: void, handleId: string, cwd: string, signal: AbortSignal): Promise<string>;
  /** The run's working directory in the handle's worktree, while it is active or kept; `null` otherwise. */
  cwdOf(this: void, handleId: string): string | null;
  /** The handle's worktree as last known; `null` before its first run made one. */
  reportOf(this: void, handleId: string): WorktreeReport | null;
  /** Judges the handle's worktree (once per time it was in use); resolves with the report, `null` when it has none. Never rejects. */
  judge(this: void, handleId: string): Promise<WorktreeReport | null>;
  /** Judges the worktree, then forgets the handle (the worktree stays if kept). */
  forget(this: void, handleId: string): Promise<void>;
  /** Waits for worktrees being made, then judges every one in use. Never rejects. */
  judgeAll(this: void): Promise<void>;
  /**
   * Takes back the worktrees recorded in a store. A worktree whose handle is
   * gone (not restored) is pruned: removed with its branch when unchanged,
   * kept on disk otherwise (a warning names it), and its record dropped. A
   * restored handle gets its worktree back; one that was closed or cancelled
   * before it was judged, or whose directory is gone, is judged now. The work
   * runs in the background (`judgeAll` waits for it). Never rejects.
   */
  restore(this: void, contents: StoreContents, handleOf: (handleId: string) => RestoredHandleState): Promise<void>;
}

/**
 * Creates the worktree manager of a runtime.
 *
 * @example
 * ```ts
 * const worktrees = createWorktreeManager({ directory: null, logger: console, watch: () => {} });
 * const cwd = await worktrees.acquire('sa_1', '/repo/src', AbortSignal.timeout(60_000)); // /repo/.git/subagents-worktrees/sa_1/src
 * await worktrees.judge('sa_1'); // removed with its branch if nothing changed, else kept
 * ```
 */
export function createWorktreeManager(options: WorktreeManagerOptions): WorktreeManager {
  const entries = new Map<string, Entry>();
  /** Per handle, the last operation (making, reusing, judging): each waits for the one before. */
  const chains = new Map<string, Promise<unknown>>();
  const watched = new Set<string>();
  const repositories = new KeyedQueue();
  const { store = null } = options;

  /** Records a worktree (while the store is open: what happens after it closed is judged again by a restore). */
  const record = (handleId: string, entry: Entry | null) => {
    if (!store || store.closed) return;
    if (entry) store.put(WORKTREES, handleId, entry);
    else store.remove(WORKTREES, handleId);
  };

  function chain<T>(handleId: string, work: () => Promise<T>): Promise<T> {
    const previous = chains.get(handleId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    chains.set(handleId, tail);
    void tail.then(() => {
      if (chains.get(handleId) === tail) chains.delete(handleId);
    });
    return next;
  }

  async function make(handleId: string, cwd: string): Promise<Entry> {
    const fail = (reason: string) => new WorktreeError(handleId, reason);
    let top: string;
    let repository: string;
    try {
      const [topLine, commonLine] = (await git(cwd, ['rev-parse', '--show-toplevel', '--git-common-dir'])).split('\n');
      top = await realpath(topLine!.trim());
      repository = await realpath(path.resolve(cwd, commonLine!.trim()));
    } catch (error) {
      throw fail(`\`${cwd}\` is not inside a git repository's work tree (${detailOf(error)})`);
    }
    return repositories.run(repository, async () => {
      let baseCommit: string;
      try {
        baseCommit = (await git(top, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).trim();
      } catch {
        throw fail(`the repository at \`${top}\` has no commit yet to branch from`);
      }
      const name = worktreeName(handleId);
      const branch = `${WORKTREE_BRANCH_PREFIX}${name}`;
      if (await gitTest(top, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])) {
        throw fail(`the branch \`${branch}\` already exists in \`${top}\` (left from an earlier run?); delete it (git branch -D ${branch}) or use another handle name`);
      }
      const folder = options.directory ?? path.join(repository, DEFAULT_WORKTREE_FOLDER);
      const directory = path.join(folder, name);
      if (existsSync(directory)) throw fail(`the worktree directory \`${directory}\` already exists; remove it or use another handle name`);
      const parentDirty = (await changedPaths(top, folder)).length > 0;
      // Recorded before it exists: a process that dies while git makes it leaves a record a restore judges.
      const planned: WorktreeReport = { path: directory, branch, baseCommit, state: 'active', changed: null, diffStat: '', parentDirty, error: null };
      record(handleId, { report: planned, repository, cwd: path.join(directory, path.relative(top, cwd)) });
      try {
        await mkdir(folder, { recursive: true });
        await git(top, ['worktree', 'add', '--quiet', '-b', branch, directory, baseCommit]);
      } catch (error) {
        await undoMake(top, directory, branch, baseCommit);
        record(handleId, null);
        throw fail(`\`git worktree add\` failed (${detailOf(error)})`);
      }
      const real = await realpath(directory);
      const runCwd = path.join(real, path.relative(top, cwd));
      // A directory the commit does not have (untracked in the parent's tree) is made, empty: git does not see empty directories.
      await mkdir(runCwd, { recursive: true });
      const report: WorktreeReport = { path: real, branch, baseCommit, state: 'active', changed: null, diffStat: '', parentDirty, error: null };
      return { report, repository, cwd: runCwd };
    });
  }

  /** Judges an active worktree: removes it with its branch when unchanged, keeps it otherwise. */
  async function settle(entry: Entry): Promise<void> {
    const { report } = entry;
    await repositories.run(entry.repository, async () => {
      try {
        if (!existsSync(report.path)) {
          await git(entry.repository, ['worktree', 'prune']);
          // A process that died while git made it may have left no branch.
          if (await gitTest(entry.repository, ['show-ref', '--verify', '--quiet', `refs/heads/${report.branch}`])) await deleteBranch(entry.repository, report.branch, report.baseCommit);
          Object.assign(report, { state: 'removed', changed: null, diffStat: '', error: 'the worktree directory was gone when it was judged' });
          return;
        }
        const dirty = (await changedPaths(report.path, null)).length > 0;
        const head = (await git(report.path, ['rev-parse', 'HEAD'])).trim();
        const tip = (await git(report.path, ['rev-parse', '--verify', '--quiet', `refs/heads/${report.branch}`]).catch(() => '')).trim();
        if (dirty || head !== report.baseCommit || tip !== report.baseCommit) {
          Object.assign(report, { state: 'kept', changed: true, diffStat: await diffStat(report.path, report.baseCommit), error: null });
          return;
        }
        try {
          // Without --force: git refuses a worktree that changed since it was looked at, and it is then kept.
          await git(entry.repository, ['worktree', 'remove', report.path]);
        } catch (error) {
          Object.assign(report, { state: 'kept', changed: null, diffStat: '', error: `it could not be removed (${detailOf(error)})` });
          return;
        }
        await deleteBranch(entry.repository, report.branch, report.baseCommit);
        Object.assign(report, { state: 'removed', changed: false, diffStat: '', error: null });
      } catch (error) {
        // In doubt, nothing is deleted.
        Object.assign(report, { state: 'kept', changed: null, diffStat: '', error: `it could not be judged (${detailOf(error)})` });
        options.logger.warn(`subagents: the worktree at ${report.path} could not be judged; it is kept`, error);
      }
    });
  }

  /** From its first worktree on, closing or cancelling the handle judges it. */
  const watch = (handleId: string) => {
    if (watched.has(handleId)) return;
    watched.add(handleId);
    options.watch(handleId, () => void judge(handleId));
  };

  const judge = (handleId: string): Promise<WorktreeReport | null> =>
    chain(handleId, async () => {
      const entry = entries.get(handleId);
      if (!entry) return null;
      if (entry.report.state === 'active') {
        await settle(entry);
        record(handleId, entry);
      }
      return { ...entry.report };
    });

  return {
    acquire(handleId, cwd, signal) {
      watch(handleId);
      const ready = chain(handleId, async () => {
        const entry = entries.get(handleId);
        if (entry && entry.report.state !== 'removed') {
          if (!existsSync(entry.cwd)) throw new WorktreeError(handleId, `its kept worktree \`${entry.report.path}\` is gone`);
          entry.report.state = 'active';
          return entry.cwd;
        }
        const made = await make(handleId, cwd);
        entries.set(handleId, made);
        record(handleId, made);
        return made.cwd;
      });
      // A run stopped while its worktree is made stops at once; the worktree is still finished and recorded, so it is judged.
      return abortable(ready, signal);
    },
    cwdOf(handleId) {
      const entry = entries.get(handleId);
      return entry && entry.report.state !== 'removed' ? entry.cwd : null;
    },
    reportOf(handleId) {
      const entry = entries.get(handleId);
      return entry ? { ...entry.report } : null;
    },
    judge,
    async forget(handleId) {
      await judge(handleId);
      if (entries.delete(handleId)) record(handleId, null);
      watched.delete(handleId);
    },
    async restore(contents, handleOf) {
      const work: Array<Promise<unknown>> = [];
      for (const [handleId, stored] of (contents.get(WORKTREES) ?? new Map()) as Map<string, Entry>) {
        const entry: Entry = { report: { ...stored.report }, repository: stored.repository, cwd: stored.cwd };
        const handle = handleOf(handleId);
        if (handle === null && entry.report.state === 'removed') {
          record(handleId, null);
          continue;
        }
        if (handle === null) {
          // Its handle is gone: judged whatever was decided before (in doubt, kept), then nobody's.
          entry.report.state = 'active';
          entries.set(handleId, entry);
          work.push(
            judge(handleId).then((report) => {
              entries.delete(handleId);
              record(handleId, null);
              if (report?.state === 'kept') {
                options.logger.warn(`subagents: the worktree at ${report.path} (branch ${report.branch}) of the handle \`${handleId}\`, gone since, changed; it is kept for you to merge or remove`);
              }
            }),
          );
          continue;
        }
        entries.set(handleId, entry);
        if (entry.report.state === 'removed') continue;
        watch(handleId);
        const gone = !existsSync(entry.report.path);
        if (gone || (handle.stopped && entry.report.state === 'active')) {
          entry.report.state = 'active';
          work.push(judge(handleId));
        }
      }
      await Promise.all(work);
    },
    async judgeAll() {
      await Promise.all([...chains.values()]);
      await Promise.all([...entries.keys()].map(judge));
    },
  };
}

/** A directory and branch name from a handle id: letters, digits, `_` and `-` (a nickname's dots become `-`). */
export function worktreeName(handleId: string): string {
  return handleId.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** `git status` entries of a work tree (untracked files included), leaving out those under `exclude`. */
async function changedPaths(workTree: string, exclude: string | null): Promise<string[]> {
  const output = await git(workTree, ['--no-optional-locks', '-c', 'core.quotepath=false', 'status', '--porcelain', '-z', '--untracked-files=all']);
  const paths = output.split('\0').filter((entry) => entry.length > 3).map((entry) => path.join(workTree, entry.slice(3)));
  return exclude === null ? paths : paths.filter((file) => !isInsideDirectory(exclude, file));
}

/**
 * The diff stat of a work tree against `base`: commits, changes and
 * untracked files alike, read through a scratch copy of its index so the
 * worktree's own index is left as it was.
 */
async function diffStat(workTree: string, base: string): Promise<string> {
  const gitDirectory = path.resolve(workTree, (await git(workTree, ['rev-parse', '--git-dir'])).trim());
  const scratch = path.join(gitDirectory, 'subagents-stat-index');
  try {
    const index = path.join(gitDirectory, 'index');
    if (existsSync(index)) await copyFile(index, scratch);
    else await git(workTree, ['read-tree', 'HEAD'], { env: { GIT_INDEX_FILE: scratch } });
    await git(workTree, ['add', '--all'], { env: { GIT_INDEX_FILE: scratch } });
    const stat = await git(workTree, ['-c', 'core.quotepath=false', 'diff', '--cached', '--stat=200', base], { env: { GIT_INDEX_FILE: scratch } });
    return stat.trimEnd();
  } finally {
    await rm(scratch, { force: true });
  }
}

/** Deletes the branch only while it still points at `base`. */
async function deleteBranch(repository: string, branch: string, base: string): Promise<void> {
  await git(repository, ['update-ref', '-d', `refs/heads/${branch}`, base]);
}

/** Removes what a failed `git worktree add` may have left: its directory and the branch it made (only at `base`). */
async function undoMake(top: string, directory: string, branch: string, base: string): Promise<void> {
  await git(top, ['worktree', 'remove', '--force', directory]).catch(() => undefined);
  await git(top, ['worktree', 'prune']).catch(() => undefined);
  await deleteBranch(top, branch, base).catch(() => undefined);
}

function detailOf(error: unknown): string {
  if (error instanceof GitCommandError) return error.detail.split('\n')[0]!;
  return error instanceof Error ? error.message : String(error);
}
