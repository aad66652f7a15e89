/** `subagents worker`: the built CLI as a worker process, with the file tools and the endpoint of OPENAI_BASE_URL. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullmqExecutor, createFileTools, createRuntime } from '../../src/index.js';
import { messageText, reply, startFakeServer } from '../../src/testing/index.js';
import type { RecordedRequest, Reply } from '../../src/testing/index.js';
import { REDIS_MISSING, redisServerBinary, startRedis } from '../support/redis-server.js';
import type { TestRedis } from '../support/redis-server.js';

const binary = redisServerBinary();
if (!binary && process.env.CI) throw new Error(`${REDIS_MISSING}; CI must run it`);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe.skipIf(!binary)('subagents worker', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis(binary!);
  }, 20_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('runs a runtime\'s child with the file tools, and stops gracefully on SIGTERM', async () => {
    const script = (request: RecordedRequest): Reply => {
      const tool = request.body.messages.find((message) => message.role === 'tool');
      if (!tool) return reply.toolCall('read_file', { path: 'package.json' });
      return reply.text(`read ${messageText(tool).includes('"name": "subagents"') ? 'the manifest' : 'something else'}`);
    };
    const server = await startFakeServer({ script });
    const child = spawn(process.execPath, [MAIN, 'worker', '--redis', redis.url, '--queue', 'cli-test', '--dir', ROOT], {
      env: { ...process.env, OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'worker-key-not-printed-1234' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const runtime = createRuntime({
      client: new OpenAI({ baseURL: server.url, apiKey: 'runtime-key', maxRetries: 0 }),
      model: 'fake-model',
      cwd: ROOT,
      tools: createFileTools({ root: ROOT }).tools,
      logger: 'error',
      executor: bullmqExecutor({ connection: redis.url, queue: 'cli-test' }),
    });
    try {
      const deadline = performance.now() + 15_000;
      while (!stdout.includes('takes runs') && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(stdout, stderr).toMatch(/^worker worker-\w+ takes runs from queue cli-test on redis:\/\/127\.0\.0\.1:\d+ /);
      const handle = runtime.spawn({ goal: 'read the manifest', toolsets: ['read'], message: 'read it' });
      expect((await runtime.wait(handle.id, { timeoutMs: 20_000 })).timedOut).toBe(false);
      expect(runtime.get(handle.id)).toMatchObject({ status: 'completed', lastOutput: 'read the manifest' });
      expect(server.requests.every((request) => request.headers.authorization === 'Bearer worker-key-not-printed-1234')).toBe(true);
    } finally {
      await runtime.shutdown();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await server.close();
    }
    expect(stdout).toMatch(/stopping: waiting for 0 run\(s\) in flight/);
    expect(stdout + stderr).not.toContain('worker-key-not-printed-1234');
  });
});
