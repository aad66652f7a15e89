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
    .filter((line) => line.startsWith('loaded file://'))
    .map((line) => {
      const file = fileURLToPath(line.slice('loaded '.length));
      const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      return inPackage ? `package ${inPackage[1]}` : file.slice(root.length);
    });
  return { loaded, stdout };
}

describe('importing the package', () => {
  it('loads neither openai nor re2js: they load on first use', { timeout: 30_000 }, async () => {
    const { loaded } = await modulesLoadedBy("const main = await import('subagents'); if (typeof main.createRuntime !== 'function') throw new Error('no createRuntime');");
    expect(loaded).toContain('dist/index.js');
    expect(loaded).toEqual(expect.arrayContaining(['package xstate', 'package zod', 'package nanoid']));
    expect(loaded.filter((module) => module === 'package openai' || module === 'package re2js')).toEqual([]);
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
