/**
 * Worktrees on a store, with real git: a restore gives a handle its worktree
 * back and prunes the worktrees of handles that are gone (forgotten by a
 * process killed before it judged them).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { AgentRun } from '../../src/agent/create-runtime.js';
import { fileStore, readFileStore } from '../../src/store/index.js';
import { HANDLES } from '../../src/runtime/durable-handles.js';
import { WORKTREES } from '../../src/runtime/worktrees.js';
import { createTestRepo } from '../support/git-repo.js';
import type { TestRepo } from '../support/git-repo.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const run: AgentRun = async (input, { cwd }) => {
  if (input.startsWith('write')) writeFileSync(path.join(cwd, 'notes.txt'), `${input}\n`);
  return { output: `done: ${input}` };
};

/** Runs the fixture, which SIGKILLs itself once two handles are closed (or forgotten) and before git judged their worktrees. */
function crashAfter(mode: 'close' | 'forget', directory: string, repo: TestRepo): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(ROOT, 'test/fixtures/worktree-crash.mjs'), directory, repo.dir, mode], (_error, _stdout, stderr) => {
      // Killed as planned, or failed: what it wrote says why.
      if (child.signalCode === null) reject(new Error(`the fixture exited with ${String(child.exitCode)}: ${stderr}`));
      else resolve(child.signalCode);
    });
  });
}

describe('worktrees on a store', () => {
  it('a restore prunes the worktrees of handles that are gone and gives the others theirs back', { timeout: 60_000 }, async () => {
    const repo = createTestRepo();
    const directory = mkdtempSync(path.join(tmpdir(), 'subagents-wt-store-'));
    cleanups.push(() => repo.remove(), () => rmSync(directory, { recursive: true, force: true }));

    expect(await crashAfter('forget', directory, repo)).toBe('SIGKILL');
    const left = readFileStore(directory);
    expect([...(left.get(HANDLES)?.keys() ?? [])]).toEqual(['stays']);
    expect([...(left.get(WORKTREES)?.keys() ?? [])].sort()).toEqual(['clean', 'dirty', 'stays']);
    expect(repo.branches()).toEqual(['main', 'subagents/clean', 'subagents/dirty', 'subagents/stays']);
    const dirtyPath = (left.get(WORKTREES)?.get('dirty') as { report: { path: string } }).report.path;

    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (message: string) => void warnings.push(message), error() {} };
    const runtime = createRuntime({ run, store: fileStore(directory), cwd: repo.dir, logger });
    try {
      // The handle still here has its worktree back, and its next run works in it.
      const stays = runtime.get('stays').worktree;
      expect(stays).toMatchObject({ branch: 'subagents/stays', state: 'active' });
      expect(runtime.workingDirectory('stays')).toBe(stays!.path);
      runtime.send('stays', 'write more');
      await runtime.wait('stays');
      expect(existsSync(path.join(stays!.path, 'notes.txt'))).toBe(true);
    } finally {
      await runtime.shutdown();
    }
    // Gone: the unchanged worktree is removed with its branch; the changed one stays on disk, named in a warning.
    expect(repo.branches()).toEqual(['main', 'subagents/dirty', 'subagents/stays']);
    expect(repo.worktrees().slice(1).sort()).toEqual([dirtyPath, runtime_path(repo, 'stays')].sort());
    expect(existsSync(path.join(dirtyPath, 'notes.txt'))).toBe(true);
    expect(warnings.filter((warning) => warning.includes('gone since'))).toEqual([expect.stringContaining(`${dirtyPath} (branch subagents/dirty) of the handle \`dirty\``)]);
    // Nobody's worktrees are no longer recorded; the kept one of `stays` is.
    const after = readFileStore(directory).get(WORKTREES);
    expect([...(after?.keys() ?? [])]).toEqual(['stays']);
    expect(after?.get('stays')).toMatchObject({ report: { state: 'kept', changed: true } });
  });

  it('handles closed before their worktrees were judged have them judged at the restore', { timeout: 60_000 }, async () => {
    const repo = createTestRepo();
    const directory = mkdtempSync(path.join(tmpdir(), 'subagents-wt-store-'));
    cleanups.push(() => repo.remove(), () => rmSync(directory, { recursive: true, force: true }));
    expect(await crashAfter('close', directory, repo)).toBe('SIGKILL');
    expect(readFileStore(directory).get(WORKTREES)?.get('clean')).toMatchObject({ report: { state: 'active' } });
    const runtime = createRuntime({ run, store: fileStore(directory), cwd: repo.dir, logger: 'error' });
    expect(runtime.get('clean').status).toBe('closed');
    await runtime.shutdown({ keep: true });
    const records = readFileStore(directory).get(WORKTREES);
    expect(records?.get('clean')).toMatchObject({ report: { state: 'removed', changed: false } });
    expect(records?.get('dirty')).toMatchObject({ report: { state: 'kept', changed: true } });
    // `stays` was neither closed nor judged at the restore; the shutdown judged it (unchanged: removed).
    expect(repo.branches()).toEqual(['main', 'subagents/dirty']);
  });
});

/** The path of a handle's worktree under the repository's default folder. */
function runtime_path(repo: TestRepo, id: string): string {
  return path.join(repo.dir, '.git', 'subagents-worktrees', id);
}
