/**
 * The MCP server over stdio: one client, one session, one runtime, for as
 * long as the client keeps the server's stdin open.
 */
import type { Readable, Writable } from 'node:stream';
import type { SubagentsRuntime } from '../agent/runtime-api.js';
import { BadArgumentError } from '../errors.js';
import { loadMcpSdk } from './sdk.js';
import { createMcpSession } from './session.js';
import type { McpSessionOptions } from './options.js';

/** Options of {@link serveMcpStdio}. */
export interface McpStdioOptions extends McpSessionOptions {
  /** The session's runtime. The server shuts it down when the client goes away. */
  runtime: SubagentsRuntime;
  /** Where messages come from. @default process.stdin */
  stdin?: Readable;
  /** Where messages go; nothing else may write there. @default process.stdout */
  stdout?: Writable;
}

/** A running stdio server. */
export interface McpStdioServer {
  /** Resolves once the client closed stdin (or `close()` was called) and the runtime was shut down. */
  readonly closed: Promise<void>;
  /** Ends the session: the runtime is shut down, every handle closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves `delegate_task` and the handle tools to the MCP client on stdio.
 * The client is the runtime's root agent.
 *
 * @throws {McpSdkMissingError} when `@modelcontextprotocol/sdk` is not installed.
 * @example
 * ```ts
 * const server = await serveMcpStdio({ runtime: createRuntime({ client: new OpenAI(), model: 'gpt-4.1-mini' }) });
 * await server.closed; // the client went away; the runtime is shut down
 * ```
 */
export async function serveMcpStdio(options: McpStdioOptions): Promise<McpStdioServer> {
  const { runtime, stdin = process.stdin, stdout = process.stdout, ...sessionOptions } = options;
  if (typeof runtime?.delegate !== 'function') throw new BadArgumentError('runtime', 'a runtime from createRuntime()', runtime);
  const sdk = await loadMcpSdk();
  const session = createMcpSession(sdk, runtime, sessionOptions);
  const transport = new sdk.StdioServerTransport(stdin, stdout);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stdin.off('end', onEnd);
      stdin.off('close', onEnd);
      try {
        await session.close();
      } finally {
        await runtime.shutdown();
        resolveClosed();
      }
    })();
    return closing;
  };
  // The transport does not watch for the end of its input: a client that closes stdin has gone.
  const onEnd = () => void close();
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  session.server.onclose = onEnd;
  await session.server.connect(transport);
  return { closed, close };
}
