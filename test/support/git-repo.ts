import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A git repository in a temporary directory, with one commit; `remove()` deletes it. */
export interface TestRepo {
  /** The repository's top directory, real path. */
  dir: string;
  /** Runs git in the repository (or in `cwd`) and returns its trimmed output. */
  git(args: readonly string[], cwd?: string): string;
  /** The paths `git worktree list` shows, the main one first. */
  worktrees(): string[];
  /** The local branch names. */
  branches(): string[];
  remove(): void;
}

/** Makes a repository with `README.md` and `src/app.txt` committed, and a user name and email of its own. */
export function createTestRepo(files: Record<string, string> = { 'README.md': 'Hello\n', 'src/app.txt': 'one\ntwo\n' }): TestRepo {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-git-')));
  const dir = path.join(base, 'repo');
  const git = (args: readonly string[], cwd = dir) =>
    execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', dir]);
  git(['config', 'user.name', 'Test User']);
  git(['config', 'user.email', 'test@example.com']);
  git(['config', 'commit.gpgsign', 'false']);
  for (const [name, text] of Object.entries(files)) {
    execFileSync('mkdir', ['-p', path.dirname(path.join(dir, name))]);
    writeFileSync(path.join(dir, name), text);
  }
  git(['add', '--all']);
  git(['commit', '--quiet', '-m', 'initial']);
  return {
    dir,
    git,
    worktrees: () =>
      git(['worktree', 'list', '--porcelain'])
        .split('\n')
        .filter((line) => line.startsWith('worktree '))
        .map((line) => line.slice('worktree '.length)),
    branches: () => git(['branch', '--format=%(refname:short)']).split('\n').filter(Boolean).sort(),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
