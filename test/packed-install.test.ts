import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownBlocks } from './support/doc-examples.js';
import { lockfileFor } from './support/packed-project.js';
import type { LockEntry, Manifest } from './support/packed-project.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

// Packing builds dist/ from scratch and npm starts several processes: a budget well above the ~20 s it takes.
const BUDGET_MS = 120_000;

/** What `npm pack --json` reports about the tarball. */
interface PackReport {
  filename: string;
  integrity: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/**
 * The environment for the npm processes: without the `npm_*` variables of the
 * `npm test` around us (they would make the inner npm act on this package),
 * but with the cache it was told to use.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_') || name.toLowerCase() === 'npm_config_cache') environment[name] = value;
  }
  return { ...environment, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** The files of a fresh clone: tracked and new files as they are in the working tree, nothing git ignores. */
async function copyAsClone(destination: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    try {
      cpSync(path.join(root, file), path.join(destination, file));
    } catch (error) {
      // A file deleted in the working tree but still in the index is not part of the clone.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

let work: string;
let project: string;
let pack: PackReport;
let timings: { packMs: number; installMs: number };

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'subagents-packed-'));
  const clone = path.join(work, 'clone');
  project = path.join(work, 'project');
  mkdirSync(clone);
  mkdirSync(project);
  await copyAsClone(clone);
  // prepack's build needs the devDependencies: reuse the repository's rather than install them again.
  symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'), 'dir');

  const packStart = performance.now();
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, env: npmEnvironment(), timeout: BUDGET_MS });
  const [report] = JSON.parse(packed.stdout) as PackReport[];
  if (!report) throw new Error(`npm pack reported nothing: ${packed.stdout}`);
  pack = report;
  const packMs = performance.now() - packStart;

  // Offline, the project can only get packages the lockfile pins; `npm ci` put their tarballs in the cache.
  const manifest = JSON.parse(readFileSync(path.join(clone, 'package.json'), 'utf8')) as Manifest;
  const repositoryLock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const tarballSpec = `file:../${pack.filename}`;
  const { lockfile, dependencies } = lockfileFor('fresh-project', { manifest, tarballSpec, integrity: pack.integrity }, repositoryLock);
  writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
  writeFileSync(path.join(project, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
  const installStart = performance.now();
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: project, env: npmEnvironment(), timeout: BUDGET_MS });
  timings = { packMs, installMs: performance.now() - installStart };
}, BUDGET_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package, installed offline into a fresh project', () => {
  it('ships dist, README, LICENSE and CHANGELOG, and no source maps or sources', () => {
    const files = pack.files.map((file) => file.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/cli/main.js']));
    expect(files.filter((file) => !file.startsWith('dist/')).sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => !/\.(js|d\.ts)$/.test(file) && file.startsWith('dist/'))).toEqual([]);
    // The figures, for the record: the test passes whatever they are.
    console.info(
      `packed ${pack.filename}: ${files.length} files, ${pack.size} bytes (${pack.unpackedSize} unpacked); ` +
        `pack ${Math.round(timings.packMs)} ms, offline install ${Math.round(timings.installMs)} ms`,
    );
  });

  it("runs the README's Quickstart as written, with no key and no network", async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const [quickstart] = markdownBlocks(readme, 'README.md').filter((block) => block.tags.includes('quickstart'));
    if (!quickstart) throw new Error('README.md has no ```ts quickstart block');
    const javascript = ts.transpileModule(quickstart.code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    writeFileSync(path.join(project, 'quickstart.mjs'), javascript);
    const environment = { ...npmEnvironment(), OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };
    const { stdout, stderr } = await run(process.execPath, ['quickstart.mjs'], { cwd: project, env: environment, timeout: 30_000 });
    expect(stderr).toBe('');
    // Its subagents really read the project's package.json through the tool.
    const characters = readFileSync(path.join(project, 'package.json'), 'utf8').length;
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^completed package\\.json is ${characters} characters long\\. \\{ inputTokens: \\d+`));
    expect(lines[1]).toMatch(new RegExp(`^completed package\\.json is ${characters} characters long\\. \\{ inputTokens: \\d+`));
    expect(lines[2]).toMatch(/^completed My subagent has read package\.json\. \{ inputTokens: \d+, outputTokens: \d+ \}$/);
  });

  it('loads with import and with require (Node ≥ 20.19), types included', async () => {
    const script = [
      "const main = require('subagents');",
      "const testing = require('subagents/testing');",
      "import('subagents').then((esm) => console.log(typeof main.createRuntime, typeof testing.startFakeServer, esm.createRuntime === main.createRuntime));",
    ].join('');
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: project, timeout: 15_000 });
    expect(stdout.trim()).toBe('function function true');
    const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules/subagents/package.json'), 'utf8')) as Manifest & { exports: Record<string, { types: string }> };
    for (const entry of Object.values(manifest.exports).filter((value) => typeof value === 'object')) {
      expect(() => readFileSync(path.join(project, 'node_modules/subagents', entry.types))).not.toThrow();
    }
  });

  it('says how to install the optional MCP SDK when `subagents mcp` is used without it', async () => {
    const mcp = run(process.execPath, ['node_modules/subagents/dist/cli/main.js', 'mcp', '--scripted'], {
      cwd: project,
      env: { ...npmEnvironment(), OPENAI_API_KEY: '' },
      timeout: 15_000,
    });
    await expect(mcp).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('npm install @modelcontextprotocol/sdk') as unknown });
  });

  it('loads without the optional peers; an entry point that needs one says which', async () => {
    // The Quickstart above ran without them. Each entry point of an optional peer fails on its own, naming the package.
    for (const [entry, peer] of [['subagents/opentelemetry', '@opentelemetry/api'], ['subagents/ai-sdk', 'ai'], ['subagents/openai-agents', '@openai/agents']]) {
      const load = run(process.execPath, ['--input-type=module', '-e', `await import('${entry}');`], { cwd: project, timeout: 15_000 });
      await expect(load).rejects.toMatchObject({ stderr: expect.stringContaining(`Cannot find package '${peer}'`) as unknown });
    }
  });

  it('says how to install the optional inspector when `--inspect` is used without it', async () => {
    const demo = run(process.execPath, ['node_modules/subagents/dist/cli/main.js', 'demo', '--scripted', '--plain', '--inspect'], {
      cwd: project,
      env: { ...npmEnvironment(), OPENAI_API_KEY: '' },
      timeout: 15_000,
    });
    await expect(demo).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('npm install @statelyai/inspect') as unknown });
  });
});
