/**
 * The built CLI (`dist/cli/main.js`, built by the global setup) as MCP
 * clients start it: over stdio, or as an HTTP server whose address and token
 * are read from what it prints.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

/** The environment of a server process: no OPENAI_* of the machine, only what the test gives. */
export function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...extra };
}

/** The JSON of a tool answer. */
export function answerOf(result: Awaited<ReturnType<Client['callTool']>>): Record<string, unknown> {
  const [first] = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(first!.text) as Record<string, unknown>;
}

/** A resource's JSON, read by `client`. */
export async function readJsonResource(client: Client, uri: string): Promise<Record<string, unknown>> {
  const [content] = (await client.readResource({ uri })).contents;
  if (!content || !('text' in content)) throw new Error(`expected the text of ${uri}, got ${JSON.stringify(content)}`);
  return JSON.parse(content.text) as Record<string, unknown>;
}

/** A client connected to `command args` over stdio, and what the server wrote to stderr. */
export async function connectStdio(command: string, args: string[], options: { env: Record<string, string>; cwd: string }) {
  const transport = new StdioClientTransport({ command, args, env: options.env, cwd: options.cwd, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

/** A running `subagents mcp --http 0 …`, with its URL and token. */
export interface HttpServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  stderr(): string;
  /** Ctrl-C, and the exit code. */
  stop(): Promise<number | null>;
}

export function startHttpServer(args: string[], env: Record<string, string>, cwd: string): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [CLI, 'mcp', '--http', '0', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not print its address in 15 s:\n${stderr}`)), 15_000);
    child.once('close', (code) => reject(new Error(`the server exited with ${code} before it was ready:\n${stderr}${stdout}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)?.[1];
      const token = /bearer token \(send `Authorization: Bearer <token>`\): (\S+)/.exec(stderr)?.[1] ?? (args.includes('--token') ? args[args.indexOf('--token') + 1] : undefined);
      if (url && token && /press Ctrl-C to stop/.test(stderr)) {
        clearTimeout(timer);
        resolve({
          child,
          url,
          token,
          stderr: () => stderr,
          stop: () => {
            child.kill('SIGINT');
            return exited;
          },
        });
      }
    });
  });
}

/** A client of an HTTP server, with the token unless told otherwise. */
export async function connectHttp(server: Pick<HttpServerProcess, 'url' | 'token'>) {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${server.token}` } } });
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}
