import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A small project on disk for the demo to survey; `remove()` deletes it. */
export function createProjectFixture(): { dir: string; remove(): void } {
  const base = mkdtempSync(path.join(tmpdir(), 'subagents-demo-'));
  const dir = path.join(base, 'fixture-project');
  mkdirSync(path.join(dir, 'src', 'util'), { recursive: true });
  mkdirSync(path.join(dir, 'docs'));
  writeFileSync(path.join(dir, 'README.md'), '# Fixture project\n\nA tiny project for the demo tests.\n\n## Usage\n\nRun it.\n');
  writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'fixture-project',
        version: '1.2.3',
        description: 'A fixture.',
        dependencies: { alpha: '1.0.0' },
        devDependencies: { beta: '1.0.0', gamma: '1.0.0' },
        scripts: { build: 'tsc', test: 'vitest' },
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const one = 1;\nexport function two() {\n  return 2;\n}\n// TODO: three\n');
  writeFileSync(path.join(dir, 'src', 'util', 'helpers.ts'), 'export const helper = true;\n// FIXME: naming\n');
  writeFileSync(path.join(dir, 'docs', 'guide.md'), '# Guide\n');
  return { dir, remove: () => rmSync(base, { recursive: true, force: true }) };
}
