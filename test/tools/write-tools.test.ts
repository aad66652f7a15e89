import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyTool } from '../../src/toolkit/define-tool.js';
import { parseToolArguments } from '../../src/toolkit/tool-arguments.js';
import { createWriteTools } from '../../src/toolkit/write-tools.js';
import { splitEvidence } from '../../src/toolkit/evidence.js';
import type { WriteTools } from '../../src/toolkit/write-tools.js';

let base: string;
let cwd: string;
let outside: string;
let tools: WriteTools;

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'subagents-write-tools-')));
  cwd = path.join(base, 'work');
  outside = path.join(base, 'outside');
  mkdirSync(path.join(cwd, 'src'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(cwd, 'src', 'app.ts'), 'const a = 1;\nconst b = 1;\nexport { a, b };\n');
  writeFileSync(path.join(outside, 'target.txt'), 'outside\n');
  symlinkSync(outside, path.join(cwd, 'out-dir'));
  symlinkSync(path.join(outside, 'target.txt'), path.join(cwd, 'out-file.txt'));
  symlinkSync(path.join(outside, 'missing.txt'), path.join(cwd, 'dangling.txt'));
  tools = createWriteTools({ maxFileBytes: 1_000 });
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

/** Calls a tool as the model loop does, for an agent working in `directory`. */
async function call(tool: AnyTool, args: unknown, directory = cwd): Promise<string> {
  const parsed = parseToolArguments(tool, JSON.stringify(args));
  if (!parsed.ok) throw new Error(parsed.error);
  const result = await tool.execute(parsed.args, { signal: new AbortController().signal, handleId: 'sa_test', depth: 1, cwd: directory });
  // The model reads the output; the evidence goes to the run's trace.
  return String(splitEvidence(result, tool.name).output);
}

/** The evidence a call reports. */
async function evidenceOf(tool: AnyTool, args: unknown, directory = cwd) {
  const parsed = parseToolArguments(tool, JSON.stringify(args));
  if (!parsed.ok) throw new Error(parsed.error);
  return splitEvidence(await tool.execute(parsed.args, { signal: new AbortController().signal, handleId: 'sa_test', depth: 1, cwd: directory }), tool.name).evidence;
}

const read = (...parts: string[]) => readFileSync(path.join(cwd, ...parts), 'utf8');

describe('write_file', () => {
  it('creates a file (and its directories) or replaces one, relative to the working directory', async () => {
    expect(await call(tools.writeFile, { path: 'docs/new/notes.md', content: '# Notes\nline\n' })).toBe('Created `docs/new/notes.md`: 2 lines, 13 bytes.');
    expect(read('docs', 'new', 'notes.md')).toBe('# Notes\nline\n');
    expect(await call(tools.writeFile, { path: 'app.ts', content: 'replaced' }, path.join(cwd, 'src'))).toBe('Replaced `app.ts`: 1 line, 8 bytes.');
    expect(read('src', 'app.ts')).toBe('replaced');
  });

  it('refuses absolute paths, `..` escapes, links that lead out (dangling ones too), directories and oversized content', async () => {
    const refusals: Array<[object, RegExp]> = [
      [{ path: path.join(outside, 'x.txt'), content: 'x' }, /is an absolute path/],
      [{ path: '../outside/x.txt', content: 'x' }, /leads outside your working directory/],
      [{ path: 'src/../../x.txt', content: 'x' }, /leads outside your working directory/],
      [{ path: 'out-dir/x.txt', content: 'x' }, /goes through a symbolic link that leads outside/],
      [{ path: 'out-file.txt', content: 'x' }, /goes through a symbolic link that leads outside/],
      [{ path: 'dangling.txt', content: 'x' }, /symbolic link to a missing target/],
      [{ path: 'src', content: 'x' }, /`src` is a directory; it cannot be written/],
      [{ path: '.', content: 'x' }, /is your working directory, not a file/],
      [{ path: 'big.txt', content: 'x'.repeat(1_001) }, /would be 1001 bytes, over the 1000-byte limit/],
    ];
    for (const [args, message] of refusals) await expect(call(tools.writeFile, args), JSON.stringify(args)).rejects.toThrow(message);
    expect(readFileSync(path.join(outside, 'target.txt'), 'utf8')).toBe('outside\n');
    expect(existsSync(path.join(outside, 'x.txt'))).toBe(false);
    expect(existsSync(path.join(outside, 'missing.txt'))).toBe(false);
    expect(existsSync(path.join(base, 'x.txt'))).toBe(false);
    expect(lstatSync(path.join(cwd, 'dangling.txt')).isSymbolicLink()).toBe(true);
  });

  it('refuses a caller outside its root', async () => {
    const bounded = createWriteTools({ root: path.join(cwd, 'src') });
    await expect(call(bounded.writeFile, { path: 'x.txt', content: 'x' })).rejects.toThrow(/Your working directory `.*work` is outside `.*src`/);
    expect(await call(bounded.writeFile, { path: 'x.txt', content: 'x' }, path.join(cwd, 'src'))).toBe('Created `x.txt`: 1 line, 1 byte.');
  });
});

describe('evidence of the write tools', () => {
  it('write_file and edit_file report the file they changed, by its absolute path', async () => {
    const written = await evidenceOf(tools.writeFile, { path: 'docs/evidence.md', content: 'one\n' });
    expect(written).toEqual([{ kind: 'file', value: path.join(realpathSync(cwd), 'docs', 'evidence.md') }]);
    expect(existsSync(written[0]!.value)).toBe(true);
    const edited = await evidenceOf(tools.editFile, { path: 'app.ts', old_text: 'const a = 1;', new_text: 'const a = 2;' }, path.join(cwd, 'src'));
    expect(edited).toEqual([{ kind: 'file', value: path.join(realpathSync(cwd), 'src', 'app.ts') }]);
  });
});

describe('edit_file', () => {
  it('replaces text that occurs once, and says where', async () => {
    expect(await call(tools.editFile, { path: 'src/app.ts', old_text: 'export { a, b };', new_text: 'export { a, b, c };\nconst c = 2;' })).toBe(
      'Edited `src/app.ts`: replaced 1 occurrence (line 3); it now has 4 lines.',
    );
    expect(read('src', 'app.ts')).toBe('const a = 1;\nconst b = 1;\nexport { a, b, c };\nconst c = 2;\n');
  });

  it('refuses text that is missing or ambiguous, unless replace_all', async () => {
    await expect(call(tools.editFile, { path: 'src/app.ts', old_text: 'const z', new_text: 'x' })).rejects.toThrow(
      /`old_text` was not found in `src\/app.ts`; read the file and copy the text exactly/,
    );
    await expect(call(tools.editFile, { path: 'src/app.ts', old_text: ' = 1;', new_text: ' = 2;' })).rejects.toThrow(
      /`old_text` occurs 2 times in `src\/app.ts` \(lines 1, 2\); give more surrounding text/,
    );
    await expect(call(tools.editFile, { path: 'src/app.ts', old_text: 'a', new_text: 'a' })).rejects.toThrow(/nothing would change/);
    await expect(call(tools.editFile, { path: 'src/app.ts', old_text: '', new_text: 'x' })).rejects.toThrow(/expected the exact text to replace/);
    expect(read('src', 'app.ts')).toBe('const a = 1;\nconst b = 1;\nexport { a, b };\n');
    expect(await call(tools.editFile, { path: 'src/app.ts', old_text: ' = 1;', new_text: ' = 2;', replace_all: true })).toBe(
      'Edited `src/app.ts`: replaced 2 occurrences (lines 1, 2); it now has 3 lines.',
    );
    expect(read('src', 'app.ts')).toBe('const a = 2;\nconst b = 2;\nexport { a, b };\n');
  });

  it('keeps `$` patterns in the new text as they are', async () => {
    await call(tools.editFile, { path: 'src/app.ts', old_text: 'const a = 1;', new_text: "const a = '$&$1';" });
    expect(read('src', 'app.ts')).toMatch(/^const a = '\$&\$1';\n/);
  });

  it('refuses files outside the working directory and links that lead out', async () => {
    await expect(call(tools.editFile, { path: '../outside/target.txt', old_text: 'outside', new_text: 'x' })).rejects.toThrow(/leads outside/);
    await expect(call(tools.editFile, { path: 'out-file.txt', old_text: 'outside', new_text: 'x' })).rejects.toThrow(/symbolic link that leads outside/);
    await expect(call(tools.editFile, { path: 'missing.ts', old_text: 'a', new_text: 'b' })).rejects.toThrow(/does not exist/);
    expect(readFileSync(path.join(outside, 'target.txt'), 'utf8')).toBe('outside\n');
  });
});

describe('createWriteTools', () => {
  it('puts both tools in the `write` toolset and checks its options', () => {
    expect(tools.tools.map((tool) => [tool.name, tool.toolset])).toEqual([
      ['write_file', 'write'],
      ['edit_file', 'write'],
    ]);
    expect(() => createWriteTools({ maxFileBytes: 0 })).toThrow(/`maxFileBytes` to be an integer >= 1/);
    expect(() => createWriteTools({ root: path.join(base, 'nope') })).toThrow(/Expected `root` to be an existing directory/);
  });
});
