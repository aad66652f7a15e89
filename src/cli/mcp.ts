/**
 * `subagents mcp`: serves `delegate_task` and the handle tools to MCP
 * clients, over stdio or Streamable HTTP on 127.0.0.1, with subagents on the
 * configured endpoint (or the embedded scripted model) and the read-only
 * file tools confined to a directory. Messages for people go to stderr:
 * over stdio, stdout carries MCP only.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createRuntime } from '../agent/create-runtime.js';
import { redactSecrets } from '../runtime/inspection.js';
import { serveMcpStdio } from '../mcp/serve-stdio.js';
import { startMcpHttpServer } from '../mcp/serve-http.js';
import type { FakeServer } from '../testing/index.js';
import { createFileTools } from '../toolkit/file-tools.js';
import type { McpOptions } from './args.js';
import { UsageError } from './args.js';
import { EXIT, resolveDirectory } from './demo.js';
import type { DemoIo } from './demo.js';
import { createClient, describeEndpoint, resolveEndpoint } from './endpoint.js';
import { SCRIPTED_MODEL_NAME, startScriptedModel } from './scripted-model.js';

/** What `subagents mcp` needs from its process besides the demo's. */
export interface McpIo extends DemoIo {
  /** The directory the file tools see when `--dir` is not given. */
  cwd: string;
  /** The byte streams MCP runs on with stdio. */
  stdin: Readable;
  rawStdout: Writable;
}

/**
 * Runs the server until the client goes away (stdio) or Ctrl-C, and resolves
 * with the exit code. Everything it started is stopped before it resolves.
 *
 * @throws {UsageError} for a `--dir` that is not a directory, a bad OPENAI_BASE_URL or a port in use.
 * @throws {McpSdkMissingError} when `@modelcontextprotocol/sdk` is not installed.
 */
export async function runMcp(options: McpOptions, io: McpIo): Promise<number> {
  const root = resolveDirectory(options.dir ?? io.cwd);
  const endpoint = resolveEndpoint(io.env, options);
  const files = createFileTools({ root });
  const secrets = endpoint.kind === 'remote' && endpoint.apiKey !== null ? [endpoint.apiKey] : [];
  const say = (line: string) => io.stderr.write(`subagents mcp: ${line}\n`);
  let model: FakeServer | null = null;
  let stop: (() => Promise<void>) | null = null;
  let interrupted!: () => void;
  const interrupt = new Promise<void>((resolve) => (interrupted = resolve));
  const removeInterrupt = io.onInterrupt(() => interrupted());
  try {
    if (endpoint.kind === 'scripted') model = await startScriptedModel({ delayMs: options.delayMs, projectName: path.basename(files.root ?? root) });
    const client = endpoint.kind === 'scripted' ? createClient(model!.url, 'scripted', false) : createClient(endpoint.baseURL, endpoint.apiKey, true);
    const makeRuntime = () =>
      createRuntime({
        client,
        model: endpoint.kind === 'scripted' ? SCRIPTED_MODEL_NAME : endpoint.model,
        tools: files.tools,
        // The file tools work in each agent's directory, inside their root: the root agent's is the root.
        cwd: root,
        maxConcurrentChildren: options.maxConcurrent,
        onListenerError: (error) => say(`a listener failed: ${redactSecrets(error instanceof Error ? error.message : String(error), secrets)}`),
      });
    const about = [
      describeEndpoint(endpoint, SCRIPTED_MODEL_NAME),
      `Files: ${files.root} (read-only list_files, read_file, search_files, confined to it)`,
    ];
    if (options.httpPort === null) {
      const server = await serveMcpStdio({ runtime: makeRuntime(), stdin: io.stdin, stdout: io.rawStdout });
      stop = () => server.close();
      say('serving MCP on stdio (delegate_task runs in the background unless a call passes background: false)');
      for (const line of about) say(line);
      await Promise.race([server.closed, interrupt]);
      return EXIT.ok;
    }
    const given = options.token ?? (io.env.SUBAGENTS_MCP_TOKEN?.trim() || null);
    if (given !== null && (given.length < 16 || /\s/.test(given))) {
      throw new UsageError(`Expected SUBAGENTS_MCP_TOKEN to be at least 16 characters without spaces, got ${given.length} characters`);
    }
    const server = await startMcpHttpServer({
      createRuntime: makeRuntime,
      port: options.httpPort,
      keepHandles: options.keepHandles,
      ...(given !== null ? { token: given } : {}),
    }).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'EADDRINUSE') throw new UsageError(`Port ${options.httpPort} is already in use; choose another with \`--http <port>\``);
      throw error;
    });
    stop = () => server.close();
    say(`serving MCP over Streamable HTTP at ${server.url} (127.0.0.1 only; Host and Origin must be loopback)`);
    say(
      given === null
        ? `bearer token (send \`Authorization: Bearer <token>\`): ${server.token}`
        : `bearer token: the one from ${options.token !== null ? '--token' : 'SUBAGENTS_MCP_TOKEN'}`,
    );
    for (const line of about) say(line);
    say(
      options.keepHandles
        ? 'each session is its own root agent; a session that ends leaves its subagents running until they finish or the server stops'
        : 'each session is its own root agent; a session that ends closes its subagents',
    );
    say('press Ctrl-C to stop');
    await interrupt;
    return EXIT.ok;
  } finally {
    removeInterrupt();
    if (stop !== null) {
      await stop();
      say('stopped; every subagent is closed');
    }
    await model?.close();
  }
}
