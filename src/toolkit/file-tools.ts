/**
 * Read-only file tools: `list_files` and `read_file` (toolset `read`) and
 * `search_files` (toolset `search`). Every path is relative to the calling
 * agent's working directory (`ToolContext.cwd`) and must stay inside it:
 * absolute paths, `..` escapes and symbolic links that lead out are refused,
 * and every output is capped. An optional root bounds the working
 * directories the tools accept.
 */
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RE2JS } from 're2js';
import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import { defineTool } from './define-tool.js';
import type { AnyTool, Tool, ToolParameters } from './define-tool.js';
import { confine, resolveRoot, workingDirectoryOf } from './file-paths.js';
import type { Target } from './file-paths.js';

/** Options of {@link createFileTools}. */
export interface FileToolsOptions {
  /**
   * A directory the tools never leave: a caller whose working directory is
   * outside it is refused. Leave it out for agents with worktree isolation,
   * whose worktrees lie outside your tree. @default none: each caller's
   * working directory is the only bound
   */
  root?: string;
  /** Entries `list_files` returns at most. @default 500 */
  maxEntries?: number;
  /** Bytes of file text `read_file` returns at most per call. @default 16000 */
  maxReadBytes?: number;
  /** Files larger than this are refused by `read_file` and skipped by `search_files`. @default 2000000 */
  maxFileBytes?: number;
  /** Matching lines `search_files` returns at most. @default 100 */
  maxMatches?: number;
  /** Directory names that recursive listing and search do not enter. @default ['.git', 'node_modules'] */
  ignore?: readonly string[];
}

/** The three file tools and the real path of their root. */
export interface FileTools {
  /** The root directory, symbolic links resolved; `null` without one. */
  readonly root: string | null;
  readonly listFiles: Tool<ToolParameters, string>;
  readonly readFile: Tool<ToolParameters, string>;
  readonly searchFiles: Tool<ToolParameters, string>;
  /** All three, to pass as `tools` to `createRuntime`. */
  readonly tools: readonly AnyTool[];
}

const LINE_PREVIEW_CHARS = 200;
const SEARCH_LINE_CHARS = 4_000;
const BINARY_SNIFF_BYTES = 8_000;
const MAX_SEARCHED_FILES = 10_000;

let re2js: Promise<typeof RE2JS> | undefined;
/** re2js, imported on the first search (only `search_files` uses it), not when the package is. */
const loadRe2js = () => (re2js ??= import('re2js').then((module) => module.RE2JS));

/**
 * Creates read-only file tools confined to the calling agent's working
 * directory (and to `options.root`, when given).
 *
 * @throws {BadArgumentError} when the root is not an existing directory or a cap is not a positive integer.
 * @example
 * ```ts
 * const files = createFileTools();
 * const runtime = createRuntime({ client, model: 'gpt-4.1-mini', tools: files.tools });
 * await runtime.delegate({ goal: 'Summarise README.md', toolsets: ['read'] }).result;
 * ```
 */
export function createFileTools(options: FileToolsOptions = {}): FileTools {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object', options);
  const root = options.root === undefined ? null : resolveRoot(options.root);
  const limits = {
    maxEntries: positiveInteger('maxEntries', options.maxEntries, 500),
    maxReadBytes: positiveInteger('maxReadBytes', options.maxReadBytes, 16_000),
    maxFileBytes: positiveInteger('maxFileBytes', options.maxFileBytes, 2_000_000),
    maxMatches: positiveInteger('maxMatches', options.maxMatches, 100),
  };
  const ignored = new Set(options.ignore ?? ['.git', 'node_modules']);

  const listFiles = defineTool({
    name: 'list_files',
    toolset: 'read',
    description:
      `List the files and directories under a directory, with file sizes. Paths are relative to your working directory; ` +
      `directories end with \`/\`. With recursive, also lists subdirectories (not ${[...ignored].join(', ') || 'any ignored directory'}). ` +
      `At most ${limits.maxEntries} entries are returned.`,
    parameters: z.object({
      path: z.string().default('.').describe('Directory relative to your working directory; `.` for the working directory itself'),
      recursive: z.boolean().default(false).describe('Also list the content of subdirectories'),
    }),
    execute: async ({ path: requested, recursive }, { signal, cwd }) => {
      const base = await workingDirectoryOf(cwd, root);
      const target = await confine(base, requested);
      if (!(await stat(target.real)).isDirectory()) {
        throw new Error(`\`${target.shown}\` is a file, not a directory; use read_file to read it`);
      }
      const lines: string[] = [];
      const counts = { files: 0, directories: 0 };
      const truncated = await walk(target, { recursive, ignored, signal }, (entry) => {
        if (lines.length >= limits.maxEntries) return false;
        if (entry.kind === 'directory') counts.directories += 1;
        if (entry.kind === 'file') counts.files += 1;
        lines.push(describeEntry(entry));
        return true;
      });
      const where = target.shown === '.' ? 'your working directory' : `\`${target.shown}\``;
      const header =
        `Listing of ${where}${recursive ? ' (recursive)' : ''}: ` +
        `${count(counts.files, 'file', 'files')}, ${count(counts.directories, 'directory', 'directories')}.`;
      const footer = truncated
        ? [`[Stopped after ${limits.maxEntries} entries; list a subdirectory to see the rest.]`]
        : lines.length === 0
          ? ['(empty directory)']
          : [];
      return [header, ...lines, ...footer].join('\n');
    },
  });

  const readFileTool = defineTool({
    name: 'read_file',
    toolset: 'read',
    description:
      `Read a UTF-8 text file. Returns a header line (line and byte counts) and then the file's lines; ` +
      `at most ${limits.maxReadBytes} bytes per call, use start_line to read further. Binary files and files over ` +
      `${limits.maxFileBytes} bytes are refused.`,
    parameters: z.object({
      path: z.string().describe('File path relative to your working directory, for example `src/index.ts`'),
      start_line: z.number().int().min(1).default(1).describe('First line to return, 1-based'),
      max_lines: z.number().int().min(1).max(5_000).default(400).describe('Lines to return at most'),
    }),
    execute: async ({ path: requested, start_line: startLine, max_lines: maxLines }, { signal, cwd }) => {
      const target = await confine(await workingDirectoryOf(cwd, root), requested);
      const info = await stat(target.real);
      if (info.isDirectory()) throw new Error(`\`${target.shown}\` is a directory; use list_files to see its content`);
      if (!info.isFile()) throw new Error(`\`${target.shown}\` is not a regular file`);
      if (info.size > limits.maxFileBytes) {
        throw new Error(`\`${target.shown}\` is ${info.size} bytes, over the ${limits.maxFileBytes}-byte limit of read_file`);
      }
      const bytes = await readFile(target.real, { signal });
      if (isBinary(bytes)) return `\`${target.shown}\` is a binary file (${bytes.length} bytes); its content is not shown.`;
      const all = splitLines(bytes.toString('utf8'));
      if (startLine > Math.max(all.length, 1)) {
        throw new Error(`\`start_line\` ${startLine} is past the end of \`${target.shown}\`, which has ${all.length} lines`);
      }
      const shown: string[] = [];
      let used = 0;
      for (const line of all.slice(startLine - 1, startLine - 1 + maxLines)) {
        const size = Buffer.byteLength(line) + 1;
        if (used + size > limits.maxReadBytes && shown.length > 0) break;
        shown.push(used + size > limits.maxReadBytes ? truncateBytes(line, limits.maxReadBytes) : line);
        used += size;
      }
      const lastShown = startLine + shown.length - 1;
      const header =
        `File \`${target.shown}\`: ${all.length} lines, ${bytes.length} bytes.` +
        (shown.length === 0 ? ' (empty file)' : ` Lines ${startLine}-${lastShown}:`);
      const rest = lastShown < all.length ? [`[Lines ${lastShown + 1}-${all.length} not shown: call read_file with start_line ${lastShown + 1} to read on.]`] : [];
      return [header, ...shown, ...rest].join('\n');
    },
  });

  const searchFiles = defineTool({
    name: 'search_files',
    toolset: 'search',
    description:
      `Search the text files under a directory for lines matching a regular expression (RE2 syntax: no backreferences or lookarounds). ` +
      `Returns \`path:line: text\` per match, at most ${limits.maxMatches} matches; skips binary files, files over ` +
      `${limits.maxFileBytes} bytes and ${[...ignored].join(', ') || 'no'} directories.`,
    parameters: z.object({
      pattern: z.string().min(1).max(500).describe('Regular expression, for example `TODO|FIXME` or `^export `'),
      path: z.string().default('.').describe('Directory or file to search, relative to your working directory'),
      ignore_case: z.boolean().default(false).describe('Match letters in any case'),
      include: z.string().max(100).optional().describe('Only files whose name matches this glob, for example `*.ts`'),
    }),
    execute: async ({ pattern, path: requested, ignore_case: ignoreCase, include }, { signal, cwd }) => {
      // RE2 matches in linear time: no pattern from a model can freeze the process.
      const re2 = await loadRe2js();
      let expression: RE2JS;
      try {
        expression = re2.compile(pattern, ignoreCase ? re2.CASE_INSENSITIVE : 0);
      } catch (error) {
        throw new Error(`\`pattern\` is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`);
      }
      const nameFilter = include === undefined ? null : globToRegExp(include);
      const target = await confine(await workingDirectoryOf(cwd, root), requested);
      const files: Entry[] = [];
      if ((await stat(target.real)).isDirectory()) {
        await walk(target, { recursive: true, ignored, signal }, (entry) => {
          if (entry.kind === 'file' && (nameFilter === null || nameFilter.test(path.posix.basename(entry.shown)))) files.push(entry);
          return files.length < MAX_SEARCHED_FILES;
        });
      } else {
        files.push({ kind: 'file', shown: target.shown, real: target.real, size: (await stat(target.real)).size });
      }
      const matches: string[] = [];
      const matchedFiles = new Set<string>();
      let skipped = 0;
      let truncated = false;
      for (const file of files) {
        signal.throwIfAborted();
        if (file.size > limits.maxFileBytes) {
          skipped += 1;
          continue;
        }
        const bytes = await readFile(file.real, { signal });
        if (isBinary(bytes)) continue;
        const lines = splitLines(bytes.toString('utf8'));
        for (const [index, line] of lines.entries()) {
          if (!expression.matcher(line.slice(0, SEARCH_LINE_CHARS)).find()) continue;
          if (matches.length >= limits.maxMatches) {
            truncated = true;
            break;
          }
          matchedFiles.add(file.shown);
          matches.push(`${file.shown}:${index + 1}: ${preview(line)}`);
        }
        if (truncated) break;
      }
      const where = target.shown === '.' ? 'your working directory' : `\`${target.shown}\``;
      const header =
        `${count(matches.length, 'match', 'matches')} for /${pattern}/${ignoreCase ? 'i' : ''} in ${matchedFiles.size} of ` +
        `${count(files.length, 'file', 'files')} under ${where}` +
        (skipped > 0 ? ` (${count(skipped, 'file', 'files')} over ${limits.maxFileBytes} bytes skipped)` : '') +
        '.';
      const footer = truncated ? [`[Stopped at ${limits.maxMatches} matches; narrow the pattern or the path to see the rest.]`] : [];
      return [header, ...matches, ...footer].join('\n');
    },
  });

  return Object.freeze({
    root,
    listFiles,
    readFile: readFileTool,
    searchFiles,
    tools: Object.freeze<AnyTool[]>([listFiles, readFileTool, searchFiles]),
  });
}

interface Entry extends Target {
  kind: 'file' | 'directory' | 'link' | 'other' | 'ignored';
  size: number;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new BadArgumentError(name, 'an integer >= 1', value);
  return value;
}

const count = (value: number, one: string, many: string) => `${value} ${value === 1 ? one : many}`;

/**
 * Visits the entries under a directory in name order, depth first. Symbolic
 * links are reported, never followed; ignored directories are reported, not
 * entered. Returns true when `visit` stopped the walk.
 */
async function walk(
  directory: Target,
  options: { recursive: boolean; ignored: ReadonlySet<string>; signal: AbortSignal },
  visit: (entry: Entry) => boolean,
): Promise<boolean> {
  options.signal.throwIfAborted();
  const names = (await readdir(directory.real)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const real = path.join(directory.real, name);
    const shown = directory.shown === '.' ? name : `${directory.shown}/${name}`;
    const info = await lstat(real);
    const kind: Entry['kind'] = info.isSymbolicLink()
      ? 'link'
      : info.isDirectory()
        ? options.recursive && options.ignored.has(name)
          ? 'ignored'
          : 'directory'
        : info.isFile()
          ? 'file'
          : 'other';
    if (!visit({ kind, shown, real, size: info.size })) return true;
    if (kind === 'directory' && options.recursive) {
      // The real path of a directory reached without links is inside the working directory by construction.
      if (await walk({ shown, real }, options, visit)) return true;
    }
  }
  return false;
}

function describeEntry(entry: Entry): string {
  switch (entry.kind) {
    case 'directory':
      return `${entry.shown}/`;
    case 'ignored':
      return `${entry.shown}/ (not listed)`;
    case 'file':
      return `${entry.shown} (${entry.size} bytes)`;
    case 'link':
      return `${entry.shown} (symbolic link, not followed)`;
    case 'other':
      return `${entry.shown} (special file)`;
  }
}

function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function preview(line: string): string {
  const trimmed = line.trim();
  return trimmed.length > LINE_PREVIEW_CHARS ? `${trimmed.slice(0, LINE_PREVIEW_CHARS)}…` : trimmed;
}

function truncateBytes(line: string, maxBytes: number): string {
  const buffer = Buffer.from(line);
  // Cutting inside a multi-byte character leaves a replacement character; harmless for a preview.
  return `${buffer.subarray(0, Math.max(0, maxBytes - 20)).toString('utf8')}… [line cut]`;
}

/** A file-name glob (`*`, `?`) as a regular expression over the whole name. */
function globToRegExp(glob: string): RegExp {
  const source = glob
    .split('')
    .map((character) => (character === '*' ? '[^/]*' : character === '?' ? '[^/]' : character.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}
