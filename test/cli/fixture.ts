import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCommandLine } from '../../src/cli/args.js';
import { runDemo } from '../../src/cli/demo.js';
import type { DemoIo } from '../../src/cli/demo.js';

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

/**
 * `subagents <argv>` for the demo, run in this process with its output
 * captured: `until(text)` resolves once the output holds `text`, and
 * `interrupt()` is Ctrl-C.
 */
export function runDemoInProcess(argv: string[], options: { defaultDir: string; env?: NodeJS.ProcessEnv; stdin?: DemoIo['stdin'] }) {
  let interrupt: () => void = () => {};
  const out: string[] = [];
  const err: string[] = [];
  let onOutput: () => void = () => {};
  const io: DemoIo = {
    stdout: {
      write: (text: string) => {
        out.push(text);
        onOutput();
      },
    },
    stderr: { write: (text: string) => err.push(text) },
    env: options.env ?? {},
    defaultDir: options.defaultDir,
    onInterrupt: (handler) => {
      interrupt = handler;
      return () => undefined;
    },
    forceExit: () => {
      throw new Error('forceExit must not be called');
    },
    ...(options.stdin ? { stdin: options.stdin } : {}),
  };
  const command = parseCommandLine(argv);
  if (command.command !== 'demo') throw new Error(`expected a demo command line, got \`${argv.join(' ')}\``);
  const output = () => out.join('');
  const until = (text: string) =>
    new Promise<void>((resolve) => {
      onOutput = () => output().includes(text) && resolve();
      onOutput();
    });
  return { code: runDemo(command.options, io), output, errors: () => err.join(''), until, interrupt: () => interrupt() };
}
