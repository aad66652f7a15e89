/** `subagents demo --redis <url> --workers 2`: the built CLI runs the survey's subagents on two worker processes of its own. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectFixture } from '../cli/fixture.js';
import { REDIS_MISSING, redisServerBinary, startRedis } from '../support/redis-server.js';
import type { TestRedis } from '../support/redis-server.js';

const binary = redisServerBinary();
if (!binary && process.env.CI) throw new Error(`${REDIS_MISSING}; CI must run it`);
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe.skipIf(!binary)('subagents demo --redis', { timeout: 90_000 }, () => {
  let redis: TestRedis;
  let fixture: ReturnType<typeof createProjectFixture>;
  beforeAll(async () => {
    redis = await startRedis(binary!);
    fixture = createProjectFixture();
  }, 20_000);
  afterAll(async () => {
    await redis?.stop();
    fixture?.remove();
  });

  it('--workers 2: the subagents run on two worker processes the demo starts on its model, which stop gracefully; exit 0', async () => {
    const result = await runCli(['demo', '--dir', fixture.dir, '--delay', '0', '--redis', redis.url, '--workers', '2', '--queue', 'demo-test']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    const pids = /^Workers: 2 local worker processes \(pid (\d+), (\d+)\) take the subagents' runs from queue demo-test on redis:\/\/127\.0\.0\.1:\d+$/m.exec(out);
    expect(pids, out).not.toBeNull();
    // Each worker printed that it takes runs, then each run it took; the handles' ids are the demo's subagents.
    const workerIds = [...out.matchAll(/^worker (worker-\w+) takes runs from queue demo-test/gm)].map((match) => match[1]);
    expect(new Set(workerIds).size).toBe(2);
    const runs = [...out.matchAll(/^worker (worker-\w+) runs (sa_\S+) \(run 1\)$/gm)].map((match) => ({ worker: match[1]!, handle: match[2]! }));
    expect(runs).toHaveLength(3);
    expect(runs.every((run) => workerIds.includes(run.worker))).toBe(true);
    const ended = [...out.matchAll(/^worker (worker-\w+) ended run 1 of (sa_\S+): completed$/gm)].map((match) => match[2]);
    expect(ended.sort()).toEqual(runs.map((run) => run.handle).sort());
    expect(out).toContain('Survey done: 3 of 3 subagents completed.');
    expect(out.match(/^\d\. .+ — completed · \d+ tool calls? · [\d,]+ tokens · [\d.]+s$/gm)).toHaveLength(3);
    // The summary, and both workers stopped gracefully after their runs.
    const perWorker = /^Runs per worker: (.+)$/m.exec(out)?.[1] ?? '';
    const counted = [...perWorker.matchAll(/(worker-\w+) (\d+)/g)].reduce((sum, match) => sum + Number(match[2]), 0);
    expect(counted).toBe(3);
    const stopped = [...out.matchAll(/^worker (worker-\w+) stopped after (\d+) run\(s\)$/gm)];
    expect(stopped.map((match) => match[1]).sort()).toEqual([...workerIds].sort());
    expect(stopped.reduce((sum, match) => sum + Number(match[2]), 0)).toBe(3);
    for (const pid of [pids![1], pids![2]]) expect(() => process.kill(Number(pid), 0)).toThrow();
  });

  it('--workers without --redis is a usage error saying what is missing', async () => {
    const result = await runCli(['demo', '--workers', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('subagents: Expected `--workers` with `--redis <url>`: without Redis the runs stay in this process\n');
  });
});
