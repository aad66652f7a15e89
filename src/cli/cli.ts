/**
 * The command line over the demo: parses the arguments, runs the command,
 * and turns every failure into a message and an exit code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpSdkMissingError } from '../errors.js';
import { parseCommandLine, UsageError } from './args.js';
import { DEMO_HELP, MAIN_HELP, MCP_HELP, WORKER_HELP } from './help.js';
import { EXIT, runDemo } from './demo.js';
import type { DemoIo } from './demo.js';
import type { TextOutput } from './live-view.js';
import { InspectorStartError } from './inspector.js';
import { runMcp } from './mcp.js';
import type { McpIo } from './mcp.js';

/** The process as the commands see it; the MCP streams and working directory default to this process's. */
export type CliIo = DemoIo & Partial<Pick<McpIo, 'cwd' | 'stdin' | 'rawStdout'>>;

const HELP = { main: MAIN_HELP, demo: DEMO_HELP, mcp: MCP_HELP, worker: WORKER_HELP } as const;
import { listStore } from './list.js';
import { runWorker } from './worker.js';
import { runStoreView } from './view.js';

/** The package's own directory: the default `--dir` of the demo. */
export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs the command line and resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), processIo());
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    switch (command.command) {
      case 'help':
        io.stdout.write(HELP[command.topic]);
        return EXIT.ok;
      case 'version':
        io.stdout.write(`${packageVersion()}\n`);
        return EXIT.ok;
      case 'demo':
        return await runDemo(command.options, io);
      case 'mcp':
        return await runMcp(command.options, { ...io, cwd: io.cwd ?? process.cwd(), stdin: io.stdin ?? process.stdin, rawStdout: io.rawStdout ?? process.stdout });
      case 'list':
        io.stdout.write(listStore(command.store));
        return EXIT.ok;
      case 'view':
        return await runStoreView(command, io);
      case 'worker':
        return await runWorker(command.options, { ...io, onTerminate: (handler) => {
          process.on('SIGTERM', handler);
          return () => process.off('SIGTERM', handler);
        } });
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`subagents: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof InspectorStartError || error instanceof McpSdkMissingError) {
      io.stderr.write(`subagents: ${error.message}\n`);
      return EXIT.failed;
    }
    io.stderr.write(`subagents: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/** The demo's view of this process: its streams, environment, signals and terminal. */
export function processIo(): DemoIo {
  return {
    stdout: guardClosed(process.stdout),
    stderr: guardClosed(process.stderr),
    env: process.env,
    defaultDir: PACKAGE_DIR,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
    forceExit(code) {
      process.exit(code);
    },
    stdin: process.stdin,
  };
}

/** A stream whose reader may go away (`subagents demo | head`): later writes are dropped, not thrown. */
function guardClosed(stream: NodeJS.WriteStream): TextOutput {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return {
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
    write: (text: string) => (closed ? false : stream.write(text)),
  };
}
