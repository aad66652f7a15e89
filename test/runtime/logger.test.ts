import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BadArgumentError } from '../../src/errors.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import type { Logger } from '../../src/logger.js';
import { reply, startFakeServer } from '../../src/testing/index.js';
import type { FakeServer } from '../../src/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { nextMacrotask } from '../support/tracked-run.js';

let runtime: SubagentsRuntime | undefined;
let server: FakeServer | undefined;
closeAfterEach(() => [runtime, server]);

function recordingLogger(): Logger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('the logger option', () => {
  it('gets what a listener throws, and nothing reaches the console', async () => {
    const logger = recordingLogger();
    runtime = createRuntime({ run: async () => 'done', logger });
    runtime.subscribe(() => {
      throw new Error('listener broke');
    });
    const handle = runtime.spawn({ message: 'go' });
    await runtime.wait(handle.id);
    await nextMacrotask();
    expect(logger.lines.some(([level, message]) => level === 'error' && message.includes('listener'))).toBe(true);
  });

  it('is told about retried model calls at debug, with the key redacted, and gets the client’s own logging', async () => {
    const key = 'sk-logger-secret-0123456789';
    let calls = 0;
    server = await startFakeServer({
      script: () => (++calls === 1 ? reply.status(503, { body: { error: { message: `overloaded for ${key}` } }, headers: { 'retry-after-ms': '10' } }) : reply.text('fine')),
    });
    const logger = recordingLogger();
    const client = new OpenAI({ baseURL: server.url, apiKey: key, maxRetries: 0, logLevel: 'debug' });
    runtime = createRuntime({ client, model: 'fake', logger });
    const { results } = await runtime.delegate({ goal: 'try twice' }).result;
    expect(results[0]).toMatchObject({ status: 'completed', summary: 'fine' });
    const retries = logger.lines.filter(([level, message]) => level === 'debug' && message.includes('retrying in'));
    expect(retries).toHaveLength(1);
    expect(retries[0]![1]).toContain('[redacted]');
    expect(JSON.stringify(logger.lines)).not.toContain(key);
    // The client logs its requests at debug through the same logger.
    expect(logger.lines.filter(([, message]) => !message.includes('retrying in')).length).toBeGreaterThan(0);
  });

  it('takes a level for the console, and refuses anything else with a typed error', () => {
    expect(() => createRuntime({ run: async () => 'x', logger: 'off' })).not.toThrow();
    expect(() => createRuntime({ run: async () => 'x', logger: 'loud' as never })).toThrow(BadArgumentError);
    expect(() => createRuntime({ run: async () => 'x', logger: 'loud' as never })).toThrow(/`logger`/);
    expect(() => createRuntime({ run: async () => 'x', logger: { info: () => {} } as never })).toThrow(/logger/);
  });
});
