import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('the built package', () => {
  it('exposes subagents and subagents/testing through its exports map', async () => {
    const script = [
      "const main = await import('subagents');",
      "const testing = await import('subagents/testing');",
      'console.log(typeof main.createRuntime, typeof testing.startFakeServer, typeof testing.reply.text);',
    ].join('');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(stdout.trim()).toBe('function function function');
  });

  it('exposes the adapters and the OpenTelemetry tracer as their own entry points', async () => {
    const script = [
      "const agents = await import('subagents/openai-agents');",
      "const aiSdk = await import('subagents/ai-sdk');",
      "const otel = await import('subagents/opentelemetry');",
      'console.log(typeof agents.createOpenAIAgentsTools, typeof aiSdk.createAiSdkTools, typeof otel.openTelemetry, otel.GEN_AI_SEMCONV_VERSION);',
    ].join('');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(stdout.trim()).toBe('function function function 1.38.0');
  });

  it('exits by itself after faulty delegations: no leaked sockets, timers or unhandled rejections', async () => {
    // A leaked handle keeps the process alive: the timeout then kills it and the call rejects.
    const { stdout, stderr } = await run(process.execPath, ['test/fixtures/faults-then-exit.mjs'], { cwd: root, timeout: 15_000 });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual([
      ['task rate', 'error'],
      ['task server', 'error'],
      ['task cut', 'error'],
      ['task malformed', 'error'],
      ['task hang', 'timeout'],
      ['task ok', 'completed'],
    ]);
  });
});
