/**
 * `subagents view --store <dir>`: the web view of what a durable store holds,
 * read only and without its lock (a running process may hold it), followed
 * as the store changes, until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { serveSource } from '../view/serve-view.js';
import { storeSource } from '../view/store-source.js';
import { UsageError } from './args.js';
import type { DemoIo } from './demo.js';

/** What the command needs of its process. */
export type ViewIo = Pick<DemoIo, 'stdout' | 'onInterrupt'>;

/** Serves the view of the store until Ctrl-C and resolves with the exit code. */
export async function runStoreView(options: { store: string; port: number }, io: ViewIo): Promise<number> {
  if (!existsSync(options.store)) throw new UsageError(`Expected \`--store\` to name a store directory, got \`${options.store}\`, which does not exist`);
  const view = await serveSource(storeSource(options.store), { port: options.port });
  io.stdout.write(
    `subagents view — the store ${options.store}, read only\n` +
      `Open ${view.url}\n` +
      '(loopback only; the token in the address is needed to read the tree). Press Ctrl-C to stop.\n',
  );
  await new Promise<void>((resolve) => {
    const stop = io.onInterrupt(() => {
      stop();
      resolve();
    });
  });
  await view.close();
  return 0;
}
