import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWebSocketReceiver } from '@statelyai/inspect';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedModel } from '../../src/cli/scripted-model.js';
import { createProjectFixture } from './fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

let fixture: ReturnType<typeof createProjectFixture>;

// The real thing: the built executable (the global setup builds dist/ as `npm start` does), not the sources.
beforeAll(() => {
  fixture = createProjectFixture();
});

afterAll(() => fixture?.remove());

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  exitedAt: number;
}

/** Starts the CLI in CI mode, with no OPENAI_* variable (so on the scripted model) unless `extraEnv` sets them. */
function startCli(
  args: string[],
  nodeOptions: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): { child: ChildProcess; output: () => string; finished: Promise<Finished> } {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [...nodeOptions, CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, exitedAt: performance.now() }));
  });
  return { child, output: () => stdout, finished };
}

/** Resolves when the CLI's output satisfies `condition`; rejects if it ends first. */
function waitForOutput(run: ReturnType<typeof startCli>, condition: (stdout: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!condition(run.output())) return;
      run.child.stdout!.off('data', check);
      resolve();
    };
    run.child.stdout!.on('data', check);
    void run.finished.then((result) => reject(new Error(`the CLI ended first (code ${result.code}):\n${result.stdout}\n${result.stderr}`)));
    check();
  });
}

/** Processes whose parent is `pid` (Linux only; elsewhere none are found). */
function childProcessesOf(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('subagents demo, the built executable', () => {
  it('runs to completion on the embedded scripted model and prints every result', async () => {
    const result = await startCli(['demo', '--dir', fixture.dir, '--delay', '5']).finished;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('embedded scripted model "scripted-survey-model" — NOT an LLM');
    expect(out).toContain(`Project: ${fixture.dir}`);
    // Plain output for CI: no escape codes, a line per event.
    expect(out).not.toContain('\u001b');
    expect(out).toMatch(/\] {3}\S+ ▸ search_files\n/);
    expect(out).toContain('Subagent results');
    expect(out).toContain(
      'The project root has 2 files (README.md and package.json) and 2 directories (docs and src). `src` holds 2 files in 1 subdirectory',
    );
    expect(out).toContain('TODO/FIXME markers: 2 in 2 files, the first at src/index.ts:5 ("// TODO: three").');
    expect(out).toContain('package.json: fixture-project@1.2.3 ("A fixture."), 1 dependency and 2 dev dependencies; scripts: build and test.');
    expect(out.match(/^\d\. .+ — completed · \d+ tool calls? · [\d,]+ tokens · [\d.]+s$/gm)).toHaveLength(3);
    expect(out).toContain("Parent agent's answer\n  Survey done: 3 of 3 subagents completed. What they found:");
    const total = /total: +([\d,]+) \(input [\d,]+, output [\d,]+\)/.exec(out);
    expect(Number(total?.[1]?.replace(/,/g, ''))).toBeGreaterThan(0);
  });

  it('with --worktree, runs one subagent in a git worktree of a new temporary repository and prints what was kept', async () => {
    // The demo makes its repository in the system's temporary directory: here, one this test removes.
    const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-demo-worktree-')));
    try {
      const result = await startCli(['demo', '--worktree', '--delay', '0'], [], { TMPDIR: scratch }).finished;
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const out = result.stdout;
      const repository = /^Repository: (\S+) \(made for this demo/m.exec(out)?.[1];
      expect(repository?.startsWith(scratch + path.sep)).toBe(true);
      const kept = /^ {2}(sa_\S+): kept — (\S+) on branch (\S+)$/m.exec(out);
      expect(kept, out).not.toBeNull();
      const [, id, worktree, branch] = kept!;
      expect(branch).toBe(`subagents/${id}`);
      expect(out).toMatch(/ {4}CHANGES\.md {7}\| 1 \+\n {4}src\/greeting\.txt \| 2 \+-\n {4}2 files changed, 2 insertions\(\+\), 1 deletion\(-\)/);
      expect(out).toContain("The repository's own tree: unchanged (git status is clean).");
      expect(out).toContain(`Its changes (CHANGES.md, src/greeting.txt) are kept in ${worktree} on branch ${branch}; my tree is unchanged.`);
      expect(readFileSync(path.join(worktree!, 'src', 'greeting.txt'), 'utf8')).toBe('Hello, worktree!\n');
      expect(readFileSync(path.join(repository!, 'src', 'greeting.txt'), 'utf8')).toBe('Hello, world!\n');
      const listed = execFileSync('git', ['-C', repository!, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith('worktree '));
      expect(listed).toEqual([`worktree ${repository}`, `worktree ${worktree}`]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('stops at Ctrl-C within a second: children interrupted, code 130, nothing left running', async () => {
    // --trace-exit makes Node warn if the process ends through process.exit(): it must end by itself.
    const run = startCli(['demo', '--dir', fixture.dir, '--delay', '100'], ['--trace-exit']);
    await waitForOutput(run, (stdout) => (stdout.match(/^\[.*\] +sa_\S+ running$/gm) ?? []).length === 3);
    expect(childProcessesOf(run.child.pid!)).toEqual([]);
    const interruptedAt = performance.now();
    run.child.kill('SIGINT');
    const result = await run.finished;
    // Typically 20–70 ms; the bound leaves room for a loaded CI machine measuring from another process.
    expect(result.exitedAt - interruptedAt).toBeLessThan(2_000);
    expect(result.code).toBe(130);
    expect(result.stderr).not.toContain('Exited the environment');
    expect(result.stdout).toContain('Interrupted (Ctrl-C): stopping every subagent…');
    expect(result.stdout.match(/^[├└]─ ■ .+ interrupted/gm)).toHaveLength(3);
    expect(result.stdout).toMatch(/Interrupted: 3 subagents were stopped \(sa_\S+, sa_\S+, sa_\S+\)\./);
    expect(() => process.kill(run.child.pid!, 0)).toThrow();
  });

  it('runs on a real OpenAI-compatible endpoint from OPENAI_BASE_URL and OPENAI_API_KEY, never printing the key', async () => {
    const key = 'sk-test-SECRET-123';
    const endpoint = await startScriptedModel({ projectName: 'fixture-project', delayMs: 0 });
    try {
      const result = await startCli(['demo', '--dir', fixture.dir, '--model', 'my-model'], [], {
        OPENAI_BASE_URL: endpoint.url,
        OPENAI_API_KEY: key,
      }).finished;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Model: my-model at ${endpoint.url} (OpenAI-compatible endpoint, API key from OPENAI_API_KEY)`);
      expect(result.stdout).not.toContain('scripted model');
      expect(result.stdout).toContain('Survey done: 3 of 3 subagents completed.');
      expect(result.stdout + result.stderr).not.toContain('SECRET');
      expect(endpoint.requests.length).toBeGreaterThanOrEqual(10);
      expect(endpoint.requests.every((request) => request.body.model === 'my-model' && request.headers.authorization === `Bearer ${key}`)).toBe(true);
    } finally {
      await endpoint.close();
    }
  });

  it('with --inspect, streams the run to a receiver through the relay on loopback, stays up until Ctrl-C, and frees the port', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = startCli(['demo', '--dir', fixture.dir, '--delay', '20', '--inspect', '--inspect-port', String(port)]);
    await waitForOutput(run, (stdout) => stdout.includes('Inspector: open'));
    const received: StatelyInspectionEvent[] = [];
    createWebSocketReceiver({ server: `ws://127.0.0.1:${port}` }).subscribe((event) => received.push(event));
    // The run ends, the relay stays up until Ctrl-C: a page opened late still gets the events.
    await waitForOutput(run, (stdout) => stdout.includes('Press Ctrl-C to exit'));
    const late: StatelyInspectionEvent[] = [];
    createWebSocketReceiver({ server: `ws://127.0.0.1:${port}` }).subscribe((event) => late.push(event));
    await expect.poll(() => late.length, { timeout: 10_000 }).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const result = await run.finished;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Inspector: open http://127.0.0.1:${port} in a browser`);
    expect(received.some((event) => event.type === '@xstate.snapshot')).toBe(true);
    const handleIds = new Set(
      received.flatMap((event) => {
        const context = event.type === '@xstate.event' ? undefined : (event.snapshot as { context?: { spec?: { id?: unknown } } }).context;
        return typeof context?.spec?.id === 'string' ? [context.spec.id] : [];
      }),
    );
    expect(handleIds.size).toBe(3);
    // Nothing holds the port once the demo is over.
    await new Promise<void>((resolve, reject) => {
      const again = createServer().once('error', reject).listen(port, () => again.close(() => resolve()));
    });
  });
});
