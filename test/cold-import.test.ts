import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

// A module hook that prints the URL of every module node loads, one a line, on stderr.
const HOOKS = `import { writeSync } from 'node:fs'; export async function load(url, context, next) { const loaded = await next(url, context); writeSync(2, 'loaded ' + url + '\\n'); return loaded; }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

/** The modules a fresh process loads for this script (paths under the package's root, or package names), and what it prints. */
async function modulesLoadedBy(script: string): Promise<{ loaded: string[]; stdout: string }> {
  const { stdout, stderr } = await run(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', script], {
    cwd: root,
  });
  const loaded = stderr
    .split('\n')
    .filter((line) => line.startsWith('loaded '))
    .map((line) => {
      const url = line.slice('loaded '.length);
      if (!url.startsWith('file:')) return url;
      const file = fileURLToPath(url);
      const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      return inPackage ? `package ${inPackage[1]}` : file.slice(root.length);
    });
  return { loaded, stdout };
}

describe('importing the package', () => {
  it('loads neither openai nor re2js: they load on first use', { timeout: 30_000 }, async () => {
    const { loaded } = await modulesLoadedBy("const main = await import('subagents'); if (typeof main.createRuntime !== 'function') throw new Error('no createRuntime');");
    expect(loaded).toEqual(expect.arrayContaining(['package xstate', 'package zod', 'package nanoid']));
    expect(loaded.filter((module) => module === 'package openai' || module === 'package re2js')).toEqual([]);
  });

  it('reads two files of its own, the entry point and the runtime, and no MCP, view or worker code', { timeout: 30_000 }, async () => {
    const { loaded } = await modulesLoadedBy("await import('subagents');");
    expect(loaded.filter((module) => module.startsWith('dist/'))).toEqual(['dist/index.js', expect.stringMatching(/^dist\/chunks\/runtime-[\w-]+\.js$/) as string]);
    // The HTTP servers (the view's, the MCP server's) are the only users of node:http.
    expect(loaded).not.toContain('node:http');
  });

  it('loads the view on the first call of serveView, which then serves its page', { timeout: 30_000 }, async () => {
    const script = [
      "const { createRuntime, serveView } = await import('subagents');",
      "const { default: OpenAI } = await import('openai');",
      "const runtime = createRuntime({ client: new OpenAI({ baseURL: 'http://127.0.0.1:9/v1', apiKey: 'unused' }), model: 'm' });",
      'const view = await serveView(runtime);',
      'const page = await fetch(view.url);',
      "console.log(page.status, page.headers.get('content-type'));",
      'await view.close();',
      'await runtime.shutdown();',
    ].join('\n');
    const { loaded, stdout } = await modulesLoadedBy(script);
    expect(loaded).toContain('node:http');
    expect(stdout.trim()).toMatch(/^200 text\/html/);
  });

  it('loads re2js for the first search, and a search finds its match', { timeout: 30_000 }, async () => {
    const script = [
      "const { createFileTools } = await import('subagents');",
      "const cwd = process.cwd() + '/src/toolkit';",
      'const tools = createFileTools({ root: cwd });',
      "const context = { signal: new AbortController().signal, handleId: 'sa_test', depth: 1, cwd };",
      "console.log(await tools.searchFiles.execute({ pattern: '^const loadRe2js', path: '.', ignore_case: false }, context));",
    ].join('\n');
    const { loaded, stdout } = await modulesLoadedBy(script);
    expect(loaded).toContain('package re2js');
    expect(stdout).toMatch(/^1 match .* in 1 of \d+ files under/);
    expect(stdout).toContain('file-tools.ts:');
  });
});
