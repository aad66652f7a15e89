/**
 * Worktree isolation with real git in temporary repositories: worktrees are
 * made at a handle's first run, reused, and judged when its task or the
 * handle ends (removed with their branch when unchanged, kept otherwise).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { Runtime, RuntimeOptions } from '../../src/agent/create-runtime.js';
import { createToolDispatcher } from '../../src/agent-tools/dispatch.js';
import { startHeldModel } from '../../src/testing/held-model.js';
import type { HeldModel } from '../../src/testing/held-model.js';
import { reply, scriptByConversation, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, ScriptFunction } from '../../src/testing/index.js';
import { createFileTools } from '../../src/toolkit/file-tools.js';
import { createWriteTools } from '../../src/toolkit/write-tools.js';
import type { DelegationResult, WorktreeReport } from '../../src/types.js';
import { createTestRepo } from '../support/git-repo.js';
import type { TestRepo } from '../support/git-repo.js';

const TEST_TIMEOUT = 60_000;
const fileTools = () => [...createFileTools().tools, ...createWriteTools().tools];
const clientFor = (url: string) => new OpenAI({ baseURL: url, apiKey: 'test', maxRetries: 0, logLevel: 'off' });

const repos: TestRepo[] = [];
const runtimes: Runtime[] = [];
const servers: FakeServer[] = [];
const held: HeldModel[] = [];
const scratch: string[] = [];

afterEach(async () => {
  const models = held.splice(0);
  for (const model of models) model.release();
  for (const runtime of runtimes.splice(0)) await runtime.shutdown();
  for (const server of [...servers.splice(0), ...models.map((model) => model.server)]) await server.close();
  for (const repo of repos.splice(0)) repo.remove();
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function repository(files?: Record<string, string>): TestRepo {
  const repo = createTestRepo(files);
  repos.push(repo);
  return repo;
}

async function scriptedRuntime(script: ScriptFunction, options: Partial<RuntimeOptions>): Promise<{ runtime: Runtime; server: FakeServer }> {
  const server = await startFakeServer({ script });
  servers.push(server);
  const runtime = createRuntime({ client: clientFor(server.url), model: 'fake', maxRetries: 0, tools: fileTools(), ...options });
  runtimes.push(runtime);
  return { runtime, server };
}

/** A child that writes `notes.txt` (or edits a file) on its first turn, then answers. */
const writingChild = (write: { tool: string; args: object } | null) =>
  scriptByConversation((turn) =>
    turn.lastRole === 'tool' || write === null ? reply.text(`done: ${turn.toolResults[0]?.content ?? 'nothing written'}`) : reply.toolCall(write.tool, write.args),
  );

describe('worktree isolation', () => {
  it(
    'gives two siblings editing the same file their own worktrees, made concurrently; both are kept and the parent tree is untouched',
    async () => {
      const repo = repository();
      const { runtime } = await scriptedRuntime(
        scriptByConversation((turn) => {
          const who = /edit as (\w+)/.exec(turn.lastUserText)?.[1] ?? 'nobody';
          return turn.lastRole === 'tool'
            ? reply.text(`${who}: ${turn.toolResults[0]?.content}`)
            : reply.toolCall('edit_file', { path: 'README.md', old_text: 'Hello', new_text: `Hello from ${who}` });
        }),
        { cwd: repo.dir },
      );
      const { results } = await runtime.delegate({
        tasks: [
          { goal: 'edit as alpha', isolation: 'worktree' },
          { goal: 'edit as beta', isolation: 'worktree' },
        ],
      }).result;
      expect(results.map((result) => result.status)).toEqual(['completed', 'completed']);
      expect(results[0]!.summary).toMatch(/^alpha: Edited `README.md`: replaced 1 occurrence \(line 1\)/);
      const [alpha, beta] = results.map((result) => result.worktree!);
      expect(alpha!.path).not.toBe(beta!.path);
      for (const [worktree, who] of [
        [alpha!, 'alpha'],
        [beta!, 'beta'],
      ] as const) {
        expect(worktree).toMatchObject({ state: 'kept', changed: true, parentDirty: false, error: null });
        expect(worktree.branch).toBe(`subagents/${results[who === 'alpha' ? 0 : 1]!.handleId}`);
        expect(readFileSync(path.join(worktree.path, 'README.md'), 'utf8')).toBe(`Hello from ${who}\n`);
        expect(worktree.diffStat).toMatch(/README\.md \| 2 \+-\n 1 file changed, 1 insertion\(\+\), 1 deletion\(-\)/);
        // By default inside the git common directory, where the parent tree's `git status` does not look.
        expect(worktree.path.startsWith(path.join(repo.dir, '.git', 'subagents-worktrees') + path.sep)).toBe(true);
      }
      expect(readFileSync(path.join(repo.dir, 'README.md'), 'utf8')).toBe('Hello\n');
      expect(repo.git(['status', '--porcelain'])).toBe('');
      expect(repo.worktrees()[0]).toBe(repo.dir);
      expect(repo.worktrees().sort()).toEqual([repo.dir, alpha!.path, beta!.path].sort());
      expect(repo.branches()).toEqual(['main', alpha!.branch, beta!.branch].sort());
    },
    TEST_TIMEOUT,
  );

  it(
    "works at the same place inside the worktree as its cwd is in the repository, and says when the parent's tree had changes it does not see",
    async () => {
      const repo = repository();
      writeFileSync(path.join(repo.dir, 'src', 'draft.txt'), 'not committed\n');
      const { runtime } = await scriptedRuntime(writingChild({ tool: 'write_file', args: { path: 'made.txt', content: 'new\n' } }), { cwd: repo.dir });
      const { results } = await runtime.delegate({ goal: 'write in src', cwd: 'src', isolation: 'worktree' }).result;
      const worktree = results[0]!.worktree!;
      expect(worktree).toMatchObject({ state: 'kept', changed: true, parentDirty: true });
      expect(readFileSync(path.join(worktree.path, 'src', 'made.txt'), 'utf8')).toBe('new\n');
      expect(existsSync(path.join(worktree.path, 'src', 'draft.txt'))).toBe(false);
      expect(worktree.diffStat).toContain('src/made.txt | 1 +');
      expect(existsSync(path.join(repo.dir, 'src', 'made.txt'))).toBe(false);
    },
    TEST_TIMEOUT,
  );

  it(
    'reuses the worktree for the later runs of a spawned handle, then judges it when the handle is closed and forgets it',
    async () => {
      const repo = repository();
      const worktreeDir = path.join(realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-worktrees-'))), 'trees');
      scratch.push(path.dirname(worktreeDir));
      const { runtime } = await scriptedRuntime(writingChild(null), { cwd: repo.dir, worktreeDir });
      const handle = runtime.spawn({ name: 'keeper.one', isolation: 'worktree', message: 'first' });
      await runtime.wait(handle.id, { timeoutMs: 30_000 });
      const first = runtime.get(handle.id);
      expect(first.status).toBe('completed');
      expect(first.worktree).toMatchObject({ state: 'active', changed: null, branch: 'subagents/keeper-one', path: path.join(worktreeDir, 'keeper-one') });
      expect(runtime.workingDirectory(handle.id)).toBe(first.worktree!.path);
      runtime.send(handle.id, 'second');
      await runtime.wait(handle.id, { timeoutMs: 30_000 });
      expect(runtime.get(handle.id)).toMatchObject({ runs: 2, worktree: { path: first.worktree!.path, state: 'active' } });
      runtime.close(handle.id);
      await vi.waitFor(() => expect(runtime.get(handle.id).worktree?.state).toBe('removed'), { timeout: 30_000, interval: 20 });
      expect(existsSync(first.worktree!.path)).toBe(false);
      expect(repo.worktrees()).toEqual([repo.dir]);
      expect(repo.branches()).toEqual(['main']);
      // Resumed, it gets a new worktree at its next run.
      runtime.resume(handle.id);
      runtime.send(handle.id, 'third');
      await runtime.wait(handle.id, { timeoutMs: 30_000 });
      expect(runtime.get(handle.id).worktree).toMatchObject({ state: 'active', path: first.worktree!.path });
      writeFileSync(path.join(first.worktree!.path, 'left.txt'), 'by hand\n');
      runtime.close(handle.id);
      expect(runtime.forget(handle.id)).toEqual([handle.id]);
      expect(() => runtime.workingDirectory(handle.id)).toThrow(/Expected the id of an existing subagent handle/);
      await runtime.shutdown();
      expect(repo.worktrees()).toEqual([repo.dir, first.worktree!.path]);
      expect(repo.branches()).toEqual(['main', 'subagents/keeper-one']);
    },
    TEST_TIMEOUT,
  );

  it(
    "branches a child's worktree from its parent's worktree, with the parent's new commit, and judges each on its own",
    async () => {
      const repo = repository();
      const seen: Record<string, string> = {};
      const runtime: Runtime = createRuntime({
        cwd: repo.dir,
        maxSpawnDepth: 2,
        run: async (input, context) => {
          seen[input] = context.cwd;
          if (input !== 'parent work') return readFileSync(path.join(context.cwd, 'parent.txt'), 'utf8');
          writeFileSync(path.join(context.cwd, 'parent.txt'), 'from the parent\n');
          repo.git(['add', 'parent.txt'], context.cwd);
          repo.git(['commit', '--quiet', '-m', 'parent'], context.cwd);
          const { results } = await context.runtime.delegate({ goal: 'child work', parentId: context.handle.id, isolation: 'worktree', signal: context.signal }).result;
          return JSON.stringify(results[0]);
        },
      });
      runtimes.push(runtime);
      runtime.spawn({ name: 'parent', isolation: 'worktree', message: 'parent work' });
      await runtime.wait('parent', { timeoutMs: 30_000 });
      const parent = runtime.get('parent');
      const child = JSON.parse(parent.lastOutput!) as DelegationResult;
      expect(child).toMatchObject({ status: 'completed', summary: 'from the parent\n', worktree: { state: 'removed', changed: false } });
      expect(child.worktree!.baseCommit).toBe(repo.git(['rev-parse', 'HEAD'], parent.worktree!.path));
      expect(child.worktree!.baseCommit).not.toBe(repo.git(['rev-parse', 'HEAD']));
      expect(seen['parent work']).toBe(parent.worktree!.path);
      expect(seen['child work']).toBe(child.worktree!.path);
      await runtime.shutdown();
      expect(runtime.get('parent').worktree).toMatchObject({ state: 'kept', changed: true });
      expect(runtime.get('parent').worktree!.diffStat).toContain('parent.txt | 1 +');
      expect(repo.worktrees()).toEqual([repo.dir, parent.worktree!.path]);
      expect(repo.branches()).toEqual(['main', 'subagents/parent']);
    },
    TEST_TIMEOUT,
  );

  describe('a failed creation fails the run with worktree_failed, never working in the parent tree', () => {
    it(
      'outside a git repository',
      async () => {
        const plain = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-plain-')));
        scratch.push(plain);
        const { runtime, server } = await scriptedRuntime(writingChild({ tool: 'write_file', args: { path: 'x.txt', content: 'x' } }), { cwd: plain });
        const { results } = await runtime.delegate({ goal: 'write', isolation: 'worktree' }).result;
        expect(results[0]).toMatchObject({ status: 'error', errorCode: 'worktree_failed', worktree: null, apiCalls: 0 });
        expect(results[0]!.error).toMatch(new RegExp(`^Expected to make a git worktree for \`sa_\\S+\` \\(isolation 'worktree'\\), but \`${plain}\` is not inside a git repository`));
        expect(server.requests).toHaveLength(0);
        expect(existsSync(path.join(plain, 'x.txt'))).toBe(false);
      },
      TEST_TIMEOUT,
    );

    it(
      'when its branch already exists',
      async () => {
        const repo = repository();
        repo.git(['branch', 'subagents/taken']);
        const before = repo.git(['rev-parse', 'subagents/taken']);
        const { runtime, server } = await scriptedRuntime(writingChild(null), { cwd: repo.dir });
        runtime.spawn({ name: 'taken', isolation: 'worktree', message: 'go' });
        await runtime.wait('taken', { timeoutMs: 30_000 });
        const snapshot = runtime.get('taken');
        expect(snapshot).toMatchObject({ status: 'error', lastOutcome: 'error', worktree: null });
        expect(snapshot.error).toContain('the branch `subagents/taken` already exists');
        expect(server.requests).toHaveLength(0);
        expect(repo.worktrees()).toEqual([repo.dir]);
        expect(repo.git(['rev-parse', 'subagents/taken'])).toBe(before);
        expect(runtime.workingDirectory('taken')).toBe(repo.dir);
      },
      TEST_TIMEOUT,
    );
  });

  it(
    'refuses a working_dir outside the caller’s over the tools: `../` and an absolute path',
    async () => {
      const repo = repository();
      const outside = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-outside-')));
      scratch.push(outside);
      mkdirSync(path.join(repo.dir, 'inner'));
      const { runtime, server } = await scriptedRuntime(writingChild(null), { cwd: path.join(repo.dir, 'inner') });
      const dispatch = createToolDispatcher(runtime, runtime.toolsOf(null), { handleId: null });
      for (const [tool, workingDir] of [
        ['delegate_task', '../'],
        ['delegate_task', outside],
        ['spawn_agent', '..'],
        ['spawn_agent', outside],
      ] as const) {
        const args = tool === 'delegate_task' ? { goal: 'look', working_dir: workingDir, isolation: 'worktree' } : { message: 'look', working_dir: workingDir };
        const answer = JSON.parse(await dispatch(tool, JSON.stringify(args))) as { ok: boolean; error?: { code: string; field?: string; message: string } };
        expect(answer, `${tool} ${workingDir}`).toMatchObject({ ok: false, error: { code: 'bad_argument', field: 'working_dir' } });
        expect(answer.error!.message).toContain("a directory inside the parent agent's working directory");
      }
      expect(runtime.list()).toEqual([]);
      expect(server.requests).toHaveLength(0);
      expect(repo.worktrees()).toEqual([repo.dir]);
    },
    TEST_TIMEOUT,
  );
});

/** How each row ends the child's task, with the child's last model request held open. */
interface Row {
  name: string;
  status: DelegationResult['status'];
  childTimeoutMs?: number;
  end(context: { runtime: Runtime; id: string; model: HeldModel }): unknown;
}

const ROWS: Row[] = [
  { name: 'completed', status: 'completed', end: ({ model }) => model.open()[0]!.answer(reply.text('All done.')) },
  { name: 'error', status: 'error', end: ({ model }) => model.open()[0]!.answer(reply.status(500)) },
  // The limit counts from the run's start, worktree made and first tool call included: far more than those take.
  { name: 'timeout', status: 'timeout', childTimeoutMs: 4_000, end: () => undefined },
  { name: 'interrupted', status: 'interrupted', end: ({ runtime, id }) => runtime.interrupt(id) },
  { name: 'cancelled', status: 'cancelled', end: ({ runtime, id }) => runtime.cancel(id) },
  { name: 'closed', status: 'cancelled', end: ({ runtime, id }) => runtime.close(id) },
  { name: 'shutdown', status: 'cancelled', end: ({ runtime }) => runtime.shutdown() },
];

describe.each(ROWS)('a delegated child whose task ends $name', (row) => {
  it.each([true, false])(
    'changed %s: the result and `git worktree list` say what was kept',
    async (changed) => {
      const repo = repository();
      const model = await startHeldModel();
      held.push(model);
      const runtime = createRuntime({
        client: clientFor(model.server.url),
        model: 'fake',
        maxRetries: 0,
        tools: fileTools(),
        cwd: repo.dir,
        ...(row.childTimeoutMs ? { childTimeoutMs: row.childTimeoutMs } : {}),
      });
      runtimes.push(runtime);
      const delegation = runtime.delegate({ goal: 'Write the notes', isolation: 'worktree' });
      const id = delegation.handleIds[0]!;
      expect(await model.until(() => model.open().length === 1, 30_000)).toBe(true);
      if (changed) {
        model.open()[0]!.answer(reply.toolCall('write_file', { path: 'notes.txt', content: 'kept\n' }));
        expect(await model.until(() => model.server.requests.length === 2 && model.open().length === 1, 30_000)).toBe(true);
      }
      await row.end({ runtime, id, model });
      const result = (await delegation.result).results[0]!;
      expect(result.status).toBe(row.status);
      if (changed) expect(result.toolTrace.map((entry) => [entry.tool, entry.ok])).toEqual([['write_file', true]]);
      const worktree: WorktreeReport = result.worktree!;
      expect(worktree.branch).toBe(`subagents/${id}`);
      expect(repo.git(['status', '--porcelain'])).toBe('');
      expect(existsSync(path.join(repo.dir, 'notes.txt'))).toBe(false);
      if (changed) {
        expect(worktree).toMatchObject({ state: 'kept', changed: true, parentDirty: false, error: null });
        expect(worktree.diffStat).toMatch(/notes\.txt \| 1 \+\n 1 file changed, 1 insertion\(\+\)/);
        expect(readFileSync(path.join(worktree.path, 'notes.txt'), 'utf8')).toBe('kept\n');
        expect(repo.worktrees()).toEqual([repo.dir, worktree.path]);
        expect(repo.branches()).toEqual(['main', worktree.branch]);
      } else {
        expect(worktree).toMatchObject({ state: 'removed', changed: false, diffStat: '', error: null });
        expect(existsSync(worktree.path)).toBe(false);
        expect(repo.worktrees()).toEqual([repo.dir]);
        expect(repo.branches()).toEqual(['main']);
      }
      expect(runtime.get(id).worktree).toEqual(worktree);
      // Shutting down later judges nothing again: what was kept stays, what was removed stays removed.
      await runtime.shutdown();
      expect(repo.worktrees()).toEqual(changed ? [repo.dir, worktree.path] : [repo.dir]);
    },
    TEST_TIMEOUT,
  );
});
