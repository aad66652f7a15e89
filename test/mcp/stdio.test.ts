import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectFixture } from '../cli/fixture.js';
import { fromGoal, startTestModel } from './model.js';
import type { TestModel } from './model.js';
import { CLI, ROOT, answerOf, connectStdio, serverEnv } from './processes.js';

let model: TestModel;
let fixture: ReturnType<typeof createProjectFixture>;

beforeAll(async () => {
  model = await startTestModel();
  fixture = createProjectFixture();
});

afterAll(async () => {
  model?.release();
  await model?.server.close();
  fixture?.remove();
});

/** The README's stdio configuration, as a user copies it. */
function readmeConfig(): { command: string; args: string[]; env?: Record<string, string> } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /```json mcp-config\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no ```json mcp-config block');
  const config = JSON.parse(block) as { mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }> };
  return config.mcpServers.subagents!;
}

describe('subagents mcp over stdio, in a real process', () => {
  it('runs the README configuration as written: the ten tools, and a delegation on the scripted model', { timeout: 30_000 }, async () => {
    const config = readmeConfig();
    expect(config.command).toBe('npx');
    expect(config.args[0]).toBe('subagents');
    // `npx subagents` runs the installed package's executable: here, the built one.
    const { client, stderr } = await connectStdio(process.execPath, [CLI, ...config.args.slice(1)], { env: serverEnv(config.env), cwd: fixture.dir });
    expect(client.getServerVersion()?.version).toBe((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ['agent_status', 'close_agent', 'delegate_task', 'extend_deadline', 'interrupt_agent', 'list_agents', 'resume_agent', 'send_input', 'spawn_agent', 'wait_agent'],
    );
    const result = await client.callTool({ name: 'delegate_task', arguments: { goal: 'Describe the project root', background: false } });
    expect(result.isError).toBe(false);
    expect(answerOf(result)).toMatchObject({ ok: true, results: [{ status: 'completed', summary: expect.stringMatching(/^The project root has 2 files and 2 directories/) as string }] });
    await client.close();
    expect(stderr()).toMatch(/embedded scripted model/);
    expect(stderr()).toContain(`Files: ${fixture.dir}`);
    expect(stderr()).toMatch(/stopped; every subagent is closed/);
  });

  it('on an endpoint: foreground with progress, background, wait_agent; the client going away closes the subagents', { timeout: 30_000 }, async () => {
    const key = 'sk-stdio-test-key-0123456789';
    const { client, stderr } = await connectStdio(process.execPath, [CLI, 'mcp', '--model', 'fake'], {
      env: serverEnv({ OPENAI_BASE_URL: model.server.url, OPENAI_API_KEY: key }),
      cwd: fixture.dir,
    });
    const progress: Array<{ progress: number; message?: string }> = [];
    const foreground = await client.callTool({ name: 'delegate_task', arguments: { goal: 'summarise the docs', background: false } }, undefined, {
      onprogress: (update) => void progress.push(update),
    });
    expect(answerOf(foreground)).toMatchObject({ ok: true, background: false, results: [{ status: 'completed', summary: 'done: summarise the docs' }] });
    // The SDK's client handles a notification a microtask after reading it and drops the request's progress handler when
    // the answer is read: a last notification read in the same chunk as the answer is lost there. Earlier ones arrive.
    expect(progress.map((update) => update.message)).toEqual(expect.arrayContaining([expect.stringMatching(/started: summarise the docs$/) as string]));

    const background = answerOf(await client.callTool({ name: 'delegate_task', arguments: { goal: 'hang on the model' } }));
    expect(background).toMatchObject({ ok: true, background: true, handleIds: [expect.any(String)] });
    const request = await model.request(fromGoal('hang on the model'));
    const waited = answerOf(await client.callTool({ name: 'wait_agent', arguments: { targets: background.handleIds, timeout_ms: 1_000 } }));
    expect(waited).toMatchObject({ ok: true, timedOut: true, completed: [], pending: [{ status: 'running', goal: 'hang on the model' }] });
    expect(request.headers.authorization).toBe(`Bearer ${key}`);

    await client.close();
    await model.aborted(request);
    expect(stderr()).toMatch(/stopped; every subagent is closed/);
    expect(stderr()).not.toContain(key);
  });

  it('says how to install @modelcontextprotocol/sdk when it is missing', { timeout: 20_000 }, async () => {
    // A resolve hook that finds no @modelcontextprotocol/sdk, as in a project that did not install it.
    const hook = `export async function resolve(specifier, context, next) {
      if (specifier.startsWith('@modelcontextprotocol/sdk')) {
        const error = new Error("Cannot find package '@modelcontextprotocol/sdk' imported from " + context.parentURL);
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return next(specifier, context);
    }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, 'mcp', '--scripted'], {
      cwd: fixture.dir,
      env: serverEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('Expected the optional peer dependency `@modelcontextprotocol/sdk` (1.x) to be installed for the MCP server, got none');
    expect(stderr).toContain('npm install @modelcontextprotocol/sdk');
    expect(stdout).toBe('');
  });
});
