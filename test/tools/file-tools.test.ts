import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseToolArguments } from '../../src/toolkit/tool-arguments.js';
import type { AnyTool } from '../../src/toolkit/define-tool.js';
import { createFileTools } from '../../src/toolkit/file-tools.js';
import type { FileTools } from '../../src/toolkit/file-tools.js';

let base: string;
let root: string;
let outside: string;
let tools: FileTools;

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'subagents-file-tools-'));
  root = path.join(base, 'project');
  outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'src', 'deep'), { recursive: true });
  mkdirSync(path.join(root, 'node_modules', 'dep'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'README.md'), '# Demo\n\nA small project.\n');
  writeFileSync(path.join(root, 'src', 'a.ts'), 'export const a = 1;\n// TODO: more\nexport function b() {}\n');
  writeFileSync(path.join(root, 'src', 'deep', 'c.ts'), 'const hidden = 2; // todo lower case\n');
  writeFileSync(path.join(root, 'node_modules', 'dep', 'index.js'), '// TODO in a dependency\n');
  writeFileSync(path.join(root, 'many.txt'), Array.from({ length: 1_000 }, (_, index) => `line ${index + 1}`).join('\n'));
  writeFileSync(path.join(root, 'image.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]));
  writeFileSync(path.join(root, 'big.txt'), 'x'.repeat(10_000));
  writeFileSync(path.join(outside, 'secret.txt'), 'outside secret TODO\n');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'escape.txt'));
  symlinkSync(outside, path.join(root, 'escape-dir'));
  symlinkSync(path.join(root, 'README.md'), path.join(root, 'readme-link.md'));
  tools = createFileTools({ root, maxFileBytes: 9_000, maxReadBytes: 2_000, maxEntries: 50, maxMatches: 3 });
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Calls a tool the way the model loop does: JSON arguments, parsed, then executed, by an agent working in `cwd`. */
async function call(tool: AnyTool, args: unknown, cwd = root): Promise<string> {
  const parsed = parseToolArguments(tool, JSON.stringify(args));
  if (!parsed.ok) throw new Error(parsed.error);
  return String(await tool.execute(parsed.args, { signal: new AbortController().signal, handleId: 'sa_test', depth: 1, cwd }));
}

describe('list_files', () => {
  it('lists a directory in name order with sizes, without following symbolic links', async () => {
    const text = await call(tools.listFiles, {});
    expect(text.split('\n')).toEqual([
      'Listing of your working directory: 4 files, 2 directories.',
      'README.md (25 bytes)',
      'big.txt (10000 bytes)',
      'escape-dir (symbolic link, not followed)',
      'escape.txt (symbolic link, not followed)',
      'image.bin (5 bytes)',
      'many.txt (8892 bytes)',
      'node_modules/',
      'readme-link.md (symbolic link, not followed)',
      'src/',
    ]);
  });

  it('lists recursively with root-relative paths, not entering ignored directories', async () => {
    const text = await call(tools.listFiles, { path: '.', recursive: true });
    expect(text).toContain('node_modules/ (not listed)');
    expect(text).not.toContain('node_modules/dep');
    expect(text).toContain('src/deep/c.ts (37 bytes)');
    expect(text).not.toContain('secret.txt');
    expect(await call(tools.listFiles, { path: 'src/', recursive: true })).toMatch(/^Listing of `src` \(recursive\): 2 files, 1 directory\./);
  });

  it('stops at the entry cap and says so', async () => {
    const capped = createFileTools({ root, maxEntries: 2 });
    const text = await call(capped.listFiles, { recursive: true });
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toContain('[Stopped after 2 entries; list a subdirectory to see the rest.]');
  });

  it('refuses a file, an absolute path, an escape with `..` and a link out of the root', async () => {
    await expect(call(tools.listFiles, { path: 'README.md' })).rejects.toThrow(/is a file, not a directory/);
    await expect(call(tools.listFiles, { path: outside })).rejects.toThrow(/absolute path/);
    await expect(call(tools.listFiles, { path: '../outside' })).rejects.toThrow(/leads outside your working directory/);
    await expect(call(tools.listFiles, { path: 'src/../../outside' })).rejects.toThrow(/leads outside your working directory/);
    await expect(call(tools.listFiles, { path: 'escape-dir' })).rejects.toThrow(/symbolic link that leads outside/);
    await expect(call(tools.listFiles, { path: 'missing' })).rejects.toThrow(/does not exist/);
  });
});

describe('read_file', () => {
  it('returns the text with a header of line and byte counts', async () => {
    expect(await call(tools.readFile, { path: 'README.md' })).toBe('File `README.md`: 3 lines, 25 bytes. Lines 1-3:\n# Demo\n\nA small project.');
    // `..` that stays inside the root is fine, as is a link that stays inside.
    expect(await call(tools.readFile, { path: 'src/../README.md' })).toContain('# Demo');
    expect(await call(tools.readFile, { path: 'readme-link.md' })).toContain('A small project.');
  });

  it('pages with start_line and max_lines, and caps the bytes returned', async () => {
    const page = await call(tools.readFile, { path: 'many.txt', start_line: 10, max_lines: 3 });
    expect(page.split('\n')).toEqual([
      'File `many.txt`: 1000 lines, 8892 bytes. Lines 10-12:',
      'line 10',
      'line 11',
      'line 12',
      '[Lines 13-1000 not shown: call read_file with start_line 13 to read on.]',
    ]);
    const capped = await call(tools.readFile, { path: 'many.txt', max_lines: 5_000 });
    expect(Buffer.byteLength(capped)).toBeLessThan(2_200);
    expect(capped).toMatch(/\[Lines \d+-1000 not shown/);
    await expect(call(tools.readFile, { path: 'many.txt', start_line: 2_000 })).rejects.toThrow(/past the end/);
  });

  it('refuses binary files, files over the size cap, directories and paths out of the root', async () => {
    expect(await call(tools.readFile, { path: 'image.bin' })).toBe('`image.bin` is a binary file (5 bytes); its content is not shown.');
    await expect(call(tools.readFile, { path: 'big.txt' })).rejects.toThrow(/10000 bytes, over the 9000-byte limit/);
    await expect(call(tools.readFile, { path: 'src' })).rejects.toThrow(/is a directory/);
    await expect(call(tools.readFile, { path: 'escape.txt' })).rejects.toThrow(/symbolic link that leads outside/);
    await expect(call(tools.readFile, { path: '/etc/passwd' })).rejects.toThrow(/absolute path/);
    await expect(call(tools.readFile, { path: '../outside/secret.txt' })).rejects.toThrow(/leads outside/);
  });

  it('rejects bad arguments before running', () => {
    const parsed = parseToolArguments(tools.readFile, JSON.stringify({ path: 'README.md', start_line: 0 }));
    expect(parsed.ok).toBe(false);
  });
});

describe('search_files', () => {
  it('finds matching lines as path:line: text, skipping ignored directories, binaries, links and big files', async () => {
    const text = await call(tools.searchFiles, { pattern: 'TODO' });
    expect(text.split('\n')).toEqual(['1 match for /TODO/ in 1 of 6 files under your working directory (1 file over 9000 bytes skipped).', 'src/a.ts:2: // TODO: more']);
  });

  it('matches in any case, filters file names by glob, and searches one file', async () => {
    expect(await call(tools.searchFiles, { pattern: 'todo', ignore_case: true, path: 'src' })).toContain('src/deep/c.ts:1: const hidden = 2; // todo lower case');
    expect(await call(tools.searchFiles, { pattern: '.', include: '*.md' })).toMatch(/^2 matches for \/\.\/ in 1 of 1 file under/);
    expect(await call(tools.searchFiles, { pattern: '^export', path: 'src/a.ts' })).toMatch(/^2 matches .* in 1 of 1 file under `src\/a.ts`\./);
  });

  it('stops at the match cap and says so', async () => {
    const text = await call(tools.searchFiles, { pattern: '^line', path: 'many.txt' });
    expect(text.split('\n').slice(1)).toEqual([
      'many.txt:1: line 1',
      'many.txt:2: line 2',
      'many.txt:3: line 3',
      '[Stopped at 3 matches; narrow the pattern or the path to see the rest.]',
    ]);
  });

  it('matches patterns that backtrack catastrophically in linear time', async () => {
    const started = performance.now();
    // `(a|aa)*c` over a long line of `a` takes tens of seconds with a backtracking engine.
    writeFileSync(path.join(root, 'catastrophic.txt'), `${'a'.repeat(3000)}\n`);
    for (const pattern of ['(a|aa)*c', '(a+)+b', '(x*y)*z', '((ab)+c)+']) {
      await expect(call(tools.searchFiles, { pattern, path: 'catastrophic.txt' }), pattern).resolves.toMatch(/No match|0 match/i);
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('reports an invalid pattern and a path out of the root as errors', async () => {
    await expect(call(tools.searchFiles, { pattern: '(' })).rejects.toThrow(/not a valid regular expression/);
    await expect(call(tools.searchFiles, { pattern: '(a)\\1' })).rejects.toThrow(/not a valid regular expression/);
    for (const pattern of ['(TODO|FIXME)+', '(\\+)+', '([+*])+', '^export (const|function) \\w+']) {
      await expect(call(tools.searchFiles, { pattern }), pattern).resolves.toMatch(/match/);
    }
    await expect(call(tools.searchFiles, { pattern: 'x', path: '..' })).rejects.toThrow(/leads outside/);
    await expect(call(tools.searchFiles, { pattern: 'x', path: 'escape-dir' })).rejects.toThrow(/symbolic link that leads outside/);
  });
});

describe('createFileTools', () => {
  it('puts list_files and read_file in `read` and search_files in `search`', () => {
    expect(tools.tools.map((tool) => [tool.name, tool.toolset])).toEqual([
      ['list_files', 'read'],
      ['read_file', 'read'],
      ['search_files', 'search'],
    ]);
  });

  it('resolves paths against the calling agent\'s working directory and keeps them inside it', async () => {
    const src = path.join(root, 'src');
    expect(await call(tools.readFile, { path: 'a.ts' }, src)).toMatch(/^File `a.ts`: 3 lines/);
    expect(await call(tools.listFiles, {}, src)).toMatch(/^Listing of your working directory: 1 file, 1 directory\.\na\.ts \(\d+ bytes\)\ndeep\/$/);
    expect(await call(tools.searchFiles, { pattern: 'todo', ignore_case: true }, src)).toContain('deep/c.ts:1:');
    // The project root is outside this agent's working directory, though inside the tools' root.
    await expect(call(tools.readFile, { path: '../README.md' }, src)).rejects.toThrow(/`..\/README.md` leads outside your working directory/);
    await expect(call(tools.readFile, { path: path.join(root, 'README.md') }, src)).rejects.toThrow(/absolute path/);
  });

  it('refuses a caller whose working directory is outside the root, and works anywhere without a root', async () => {
    await expect(call(tools.readFile, { path: 'secret.txt' }, outside)).rejects.toThrow(
      new RegExp(`Your working directory \`${outside}\` is outside \`${root}\`, the only directory these file tools work in`),
    );
    const unbounded = createFileTools();
    expect(unbounded.root).toBeNull();
    expect(await call(unbounded.readFile, { path: 'secret.txt' }, outside)).toContain('outside secret TODO');
    await expect(call(unbounded.readFile, { path: '../project/README.md' }, outside)).rejects.toThrow(/leads outside your working directory/);
  });

  it('refuses a root that is missing or a file, and caps that are not positive integers', () => {
    expect(() => createFileTools({ root: path.join(base, 'nope') })).toThrow(/Expected `root` to be an existing directory/);
    expect(() => createFileTools({ root: path.join(root, 'README.md') })).toThrow(/a directory, not a file/);
    expect(() => createFileTools({ root, maxEntries: 0 })).toThrow(/`maxEntries` to be an integer >= 1/);
  });
});
