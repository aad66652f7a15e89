#!/usr/bin/env node
/**
 * Builds `dist/` from scratch with `tsc -p tsconfig.build.json`.
 *
 * `--if-stale` builds only when a source (src/**, tsconfig*.json) is newer than
 * dist's entry point, and says so in one line: `npm start` and `prepare` then
 * cost nothing on an up-to-date build. A clean build (the default, used by
 * `prepack`) also drops outputs of deleted sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Written on every build (tsc rewrites every output), and the file `npm start` runs.
const stamp = path.join(root, 'dist', 'cli', 'main.js');

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
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  // tsc has printed the errors; noEmitOnError left no half-built dist/ behind.
  process.exit(1);
}
