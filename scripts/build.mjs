#!/usr/bin/env node
/**
 * Builds `dist/` from scratch: `tsc -p tsconfig.build.json` writes the
 * declarations and JavaScript module by module, then rolldown links the
 * JavaScript of each entry point (the `exports` map's and the `bin`'s) into
 * one file at the same path, with the code entry points share in
 * `dist/chunks/` (one copy of each class). A fresh process then loads a
 * handful of files instead of some 120 modules, which is most of what
 * importing the package costs. The declarations stay as tsc wrote them;
 * packages stay imports (none is bundled).
 *
 * `--if-stale` builds only when a source (src/**, tsconfig*.json) is newer than
 * dist's entry point, and says so in one line: `npm start` and `prepare` then
 * cost nothing on an up-to-date build. A clean build (the default, used by
 * `prepack`) also drops outputs of deleted sources.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Written on every build (tsc rewrites every output), and the file `npm start` runs.
const stamp = path.join(root, 'dist', 'cli', 'main.js');
const dist = path.join(root, 'dist');

/** The newest modification time among the inputs of the build. */
function newestSourceTime() {
  let newest = 0;
  const visit = (file) => {
    const stats = statSync(file);
    if (stats.isDirectory()) {
      for (const entry of readdirSync(file)) visit(path.join(file, entry));
    } else {
      newest = Math.max(newest, stats.mtimeMs);
    }
  };
  visit(path.join(root, 'src'));
  for (const entry of readdirSync(root)) {
    if (/^tsconfig.*\.json$/.test(entry)) visit(path.join(root, entry));
  }
  return newest;
}

if (process.argv.includes('--if-stale')) {
  if (!existsSync(stamp)) {
    process.stderr.write('subagents: no build yet; building dist/ …\n');
  } else if (newestSourceTime() > statSync(stamp).mtimeMs) {
    process.stderr.write('subagents: sources changed since the last build; building dist/ …\n');
  } else {
    process.exit(0);
  }
}
rmSync(dist, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  // tsc has printed the errors; noEmitOnError left no half-built dist/ behind.
  process.exit(1);
}
await bundle();

/** The JavaScript files the package's `exports` map and `bin` name, as paths under dist/ without `.js`. */
function entryPoints() {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const targets = [...Object.values(manifest.exports).map((target) => (typeof target === 'string' ? target : target.import)), ...Object.values(manifest.bin)];
  const names = targets.filter((target) => typeof target === 'string' && target.endsWith('.js')).map((target) => path.posix.relative('dist', target).replace(/\.js$/, ''));
  return [...new Set(names)];
}

/** Links tsc's modules of each entry point into one file in its place; every other module's JavaScript goes. */
async function bundle() {
  const { rolldown } = await import('rolldown');
  const input = Object.fromEntries(entryPoints().map((name) => [name, path.join(dist, `${name}.js`)]));
  const linked = mkdtempSync(path.join(tmpdir(), 'subagents-dist-'));
  try {
    const build = await rolldown({
      input,
      platform: 'node',
      // Packages are the user's to install and dedupe: only the package's own modules are linked.
      external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
      plugins: [keepRelativeUrls()],
      logLevel: 'warn',
    });
    try {
      // Shared chunks one directory deep, as deep as the modules they hold were. The runtime (every layer below
      // the MCP server, the view, the command line and the other entry points) is one chunk: one file to load.
      await build.write({
        dir: linked,
        format: 'esm',
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        codeSplitting: { groups: [{ name: 'runtime', test: (id) => isRuntimeModule(path.relative(dist, id)) }] },
      });
    } finally {
      await build.close();
    }
    removeJavaScript(dist);
    cpSync(linked, dist, { recursive: true });
  } finally {
    rmSync(linked, { recursive: true, force: true });
  }
}

/** A module of the runtime: not an entry point, and in none of the folders above the runtime's layers. */
function isRuntimeModule(file) {
  return file !== 'index.js' && !/^(mcp|view|cli|testing|adapters|telemetry)[\\/]/.test(file);
}

/**
 * Fails the build when a module that makes a URL relative to its own file
 * (`new URL('./main.js', import.meta.url)`) is linked into a file in another
 * directory, where that URL would point elsewhere.
 */
function keepRelativeUrls() {
  const relative = /new URL\(\s*['"`]\.[^'"`]*['"`]\s*,\s*import\.meta\.url/;
  const modules = new Set();
  return {
    name: 'keep-relative-urls',
    transform(code, id) {
      if (relative.test(code)) modules.add(id);
      return null;
    },
    generateBundle(_options, output) {
      for (const file of Object.values(output)) {
        if (file.type !== 'chunk') continue;
        for (const id of file.moduleIds.filter((module) => modules.has(module))) {
          const from = path.dirname(path.relative(dist, id));
          if (from !== path.posix.dirname(file.fileName)) {
            this.error(`${path.relative(root, id)} makes URLs relative to its own file, but was linked into dist/${file.fileName}: they would point elsewhere`);
          }
        }
      }
    },
  };
}

function removeJavaScript(directory) {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) removeJavaScript(file);
    else if (entry.name.endsWith('.js')) rmSync(file);
  }
}
