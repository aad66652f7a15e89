/**
 * A worker process of W: `node dist-bench/bench/w-worker.js <JSON config>`
 * with redis, queue and baseURL. Prints `ready <id>` once it takes runs;
 * SIGTERM stops it gracefully.
 */
import OpenAI from 'openai';
import { createWorker } from '../src/distributed/worker.js';
import { lookupTool } from './fixtures.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { redis: string; queue: string; baseURL: string };
const worker = await createWorker({
  connection: config.redis,
  queue: config.queue,
  client: new OpenAI({ baseURL: config.baseURL, apiKey: 'bench', maxRetries: 0 }),
  tools: [lookupTool],
  concurrency: 16,
  logger: 'error',
});
process.stdout.write(`ready ${worker.id}\n`);
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
