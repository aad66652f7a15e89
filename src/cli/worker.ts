/**
 * `subagents worker`: a worker process for runtimes elsewhere, with the
 * read-only file tools and the model endpoint of OPENAI_BASE_URL /
 * OPENAI_API_KEY. Stops gracefully on Ctrl-C or SIGTERM.
 */
import { RedisPackagesMissingError } from '../errors.js';
import { createWorker } from '../distributed/worker.js';
import { createFileTools } from '../toolkit/file-tools.js';
import { realDirectory } from '../delegation/working-directory.js';
import { UsageError } from './args.js';
import type { WorkerCliOptions } from './args.js';
import { EXIT } from './demo.js';
import type { DemoIo } from './demo.js';
import { createClient, resolveEndpoint, safeUrl } from './endpoint.js';

/** Runs a worker until it is told to stop; resolves with the exit code. */
export async function runWorker(options: WorkerCliOptions, io: DemoIo & { onTerminate?: (handler: () => void) => () => void }): Promise<number> {
  const endpoint = resolveEndpoint(io.env, { scripted: false, model: 'the model each run names' });
  if (endpoint.kind === 'scripted') throw new UsageError('Expected OPENAI_BASE_URL and/or OPENAI_API_KEY to name the endpoint the runs call, got neither');
  let root: string;
  try {
    root = realDirectory('dir', options.dir ?? process.cwd());
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const files = createFileTools({ root });
  let worker;
  try {
    worker = await createWorker({
      connection: options.redis,
      queue: options.queue,
      providers: { default: { client: createClient(endpoint.baseURL, endpoint.apiKey, true) } },
      tools: files.tools,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // Each run it starts and ends, on stdout; what goes wrong, on stderr.
      logger: {
        debug: () => {},
        info: (message) => io.stdout.write(`${message}\n`),
        warn: (message) => io.stderr.write(`subagents: ${message}\n`),
        error: (message) => io.stderr.write(`subagents: ${message}\n`),
      },
    });
  } catch (error) {
    if (error instanceof RedisPackagesMissingError) {
      io.stderr.write(`subagents: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
  io.stdout.write(`worker ${worker.id} takes runs from queue ${options.queue} on ${safeUrl(options.redis)} (model calls to ${safeUrl(endpoint.baseURL)}; tools in ${root})\n`);
  await new Promise<void>((resolve) => {
    const stops: Array<() => void> = [];
    const stop = () => {
      for (const unlisten of stops) unlisten();
      resolve();
    };
    stops.push(io.onInterrupt(stop));
    if (io.onTerminate) stops.push(io.onTerminate(stop));
  });
  io.stdout.write(`worker ${worker.id} stopping: waiting for ${worker.running} run(s) in flight\n`);
  await worker.close();
  io.stdout.write(`worker ${worker.id} stopped after ${worker.started} run(s)\n`);
  return EXIT.ok;
}
