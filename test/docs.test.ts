import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { exportedNames, markdownBlocks, sourceFiles, tsdocExampleModule, tsdocExamples } from './support/doc-examples.js';
import type { CodeBlock, ImportSource } from './support/doc-examples.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository, so that `openai`, `zod`, … resolve from its node_modules (ignored by git and ESLint).
mkdirSync(path.join(root, '.doc-examples'), { recursive: true });
const workDirectory = mkdtempSync(path.join(root, '.doc-examples', 'check-'));
afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

const readme = markdownBlocks(readFileSync(path.join(root, 'README.md'), 'utf8'), 'README.md');
const examples = sourceFiles(root, 'src').flatMap((file) => tsdocExamples(readFileSync(path.join(root, file), 'utf8'), file));

/** A checked file and the block it stands for. */
interface CheckedFile {
  fileName: string;
  block: CodeBlock;
  /** The line of the file that holds the block's first line. */
  bodyLine: number;
}

const exportsOf = (file: string) => exportedNames(readFileSync(path.join(root, file), 'utf8'));
const relativeModule = (file: string) => path.relative(workDirectory, path.join(root, file)).replace(/\.ts$/, '.js');
// What an example may use unimported: its own module's exports, the entry points', then any other module's.
const entryPoints: ImportSource[] = [
  { specifier: 'subagents', names: exportsOf('src/index.ts') },
  { specifier: 'subagents/testing', names: exportsOf('src/testing/index.ts') },
  { specifier: 'subagents/opentelemetry', names: exportsOf('src/telemetry/index.ts') },
];
const otherModules = sourceFiles(root, 'src').map((file) => ({ specifier: relativeModule(file), names: exportsOf(file) }));

function writeChecked(name: string, text: string, block: CodeBlock, bodyLine: number): CheckedFile {
  const fileName = path.join(workDirectory, `${name}.ts`);
  writeFileSync(fileName, text);
  return { fileName, block, bodyLine };
}

/** Every block as a file, plus one deliberately wrong block that must be reported at its own line. */
function writeAll(): { files: CheckedFile[]; canary: CheckedFile } {
  const files = readme.map((block) => writeChecked(`readme-L${block.line}`, `${block.code}\n`, block, 1));
  for (const block of examples) {
    const sources = [{ specifier: relativeModule(block.file), names: exportsOf(block.file) }, ...entryPoints, ...otherModules];
    const { text, bodyLine } = tsdocExampleModule(block, sources);
    files.push(writeChecked(`${block.file.replaceAll(/[/.]/g, '-')}-L${block.line}`, text, block, bodyLine));
  }
  const canaryBlock: CodeBlock = { file: 'canary.md', line: 10, code: "import { createRuntime } from 'subagents';\n\ncreateRuntime({ modle: 'typo' });", tags: [] };
  const canary = writeChecked('canary', `${canaryBlock.code}\n`, canaryBlock, 1);
  return { files, canary };
}

/** `file:line: message` for each error, at the line of the block's source. */
function check(files: readonly CheckedFile[]): Map<CheckedFile, string[]> {
  writeFileSync(
    path.join(workDirectory, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: {
        rootDir: '../..',
        noEmit: true,
        // Examples show one call; what they declare need not be used, and their imports need not say `type`.
        noUnusedLocals: false,
        noUnusedParameters: false,
        noImplicitReturns: false,
        verbatimModuleSyntax: false,
        isolatedModules: false,
        paths: {
          subagents: ['../../src/index.ts'],
          'subagents/testing': ['../../src/testing/index.ts'],
          'subagents/openai-agents': ['../../src/adapters/openai-agents.ts'],
          'subagents/ai-sdk': ['../../src/adapters/ai-sdk.ts'],
          'subagents/opentelemetry': ['../../src/telemetry/index.ts'],
        },
      },
      include: ['*.ts'],
    }),
  );
  const config = ts.getParsedCommandLineOfConfigFile(path.join(workDirectory, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error('cannot read the examples tsconfig');
  const program = ts.createProgram(
    files.map((file) => file.fileName),
    config.options,
  );
  const errors = new Map<CheckedFile, string[]>();
  for (const file of files) {
    const sourceFile = program.getSourceFile(file.fileName);
    if (!sourceFile) throw new Error(`not in the program: ${file.fileName}`);
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    const messages = diagnostics.map((diagnostic) => {
      const { line } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const sourceLine = file.block.line + (line + 1 - file.bodyLine);
      return `${file.block.file}:${sourceLine}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
    });
    if (messages.length > 0) errors.set(file, messages);
  }
  return errors;
}

describe('the documentation', () => {
  it('finds the README blocks and the TSDoc examples', () => {
    expect(readme.length).toBeGreaterThanOrEqual(3);
    expect(readme.filter((block) => block.tags.includes('quickstart'))).toHaveLength(1);
    expect(examples.length).toBeGreaterThanOrEqual(40);
  });

  it('type-checks every TypeScript block of the README and every @example of the TSDoc', { timeout: 90_000 }, () => {
    const { files, canary } = writeAll();
    const errors = check([...files, canary]);
    // The checker must report a wrong block, at the line the block was written.
    expect(errors.get(canary)?.join('\n')).toMatch(/^canary\.md:12: .*'modle'/);
    errors.delete(canary);
    expect([...errors.values()].flat()).toEqual([]);
  });
});
