import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { startFakeServer } from '../../src/testing/index.js';
import type { FakeServer, FakeServerOptions } from '../../src/testing/index.js';

/**
 * Fake servers for one test file, each with a client pointed at it (no
 * retries; `logLevel: 'off'`, since the client logs unparsable SSE data
 * before throwing), all closed after each test.
 */
export function useFakeServers(): (options: FakeServerOptions) => Promise<{ server: FakeServer; client: OpenAI }> {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options) => {
    const server = await startFakeServer(options);
    servers.push(server);
    return { server, client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' }) };
  };
}
