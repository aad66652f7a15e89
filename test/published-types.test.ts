import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The declaration files of every entry point the package exports (built by the global setup). */
function entryDeclarations(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { types?: string }> };
  return Object.values(manifest.exports).flatMap((target) => (typeof target === 'object' && target.types ? [path.join(ROOT, target.types)] : []));
}

describe('the published types', () => {
  it('type-check as a project sees them: strict, without skipLibCheck (no reference to a stripped @internal member)', { timeout: 120_000 }, async () => {
    const files = entryDeclarations();
    expect(files.length).toBeGreaterThanOrEqual(5);
    const args = ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', ...files];
    const run = promisify(execFile)(process.execPath, args, { cwd: ROOT }).then(
      () => '',
      (error: Error & { stdout?: string }) => error.stdout || error.message,
    );
    expect(await run).toBe('');
  });
});
