/**
 * File tools that change files: `write_file` and `edit_file` (toolset
 * `write`). Like the read tools, every path is relative to the calling
 * agent's working directory (`ToolContext.cwd`) and stays inside it:
 * absolute paths, `..` escapes and symbolic links that lead out are refused.
 * Give them to agents that work in a git worktree of their own
 * (`isolation: 'worktree'`) and their edits stay out of your tree.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BadArgumentError } from '../errors.js';
import { defineTool } from './define-tool.js';
import type { AnyTool, Tool, ToolParameters } from './define-tool.js';
import { confine, confineForWrite, resolveRoot, workingDirectoryOf } from './file-paths.js';
import { withEvidence } from './evidence.js';
import type { ToolResultWithEvidence } from './evidence.js';

/** Options of {@link createWriteTools}. */
export interface WriteToolsOptions {
  /**
   * A directory the tools never leave: a caller whose working directory is
   * outside it is refused. Leave it out for agents with worktree isolation,
   * whose worktrees lie outside your tree. @default none: each caller's
   * working directory is the only bound
   */
  root?: string;
  /** Bytes a file may have after a write or an edit. @default 1000000 */
  maxFileBytes?: number;
}

/** The two write tools. */
export interface WriteTools {
  /** The root directory, symbolic links resolved; `null` without one. */
  readonly root: string | null;
  /** Its result reads as text for the model, with the file written as evidence (`{ kind: 'file', value: <absolute path> }`). */
  readonly writeFile: Tool<ToolParameters, ToolResultWithEvidence<string>>;
  /** Its result reads as text for the model, with the file edited as evidence (`{ kind: 'file', value: <absolute path> }`). */
  readonly editFile: Tool<ToolParameters, ToolResultWithEvidence<string>>;
  /** Both, to pass as `tools` to `createRuntime` (beside the read tools). */
  readonly tools: readonly AnyTool[];
}

/** Opens for writing without following a symbolic link at the last step (one made after the path was checked). */
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0);

/**
 * Creates `write_file` (creates or replaces a file) and `edit_file` (replaces
 * an exact piece of text), confined to the calling agent's working directory.
 *
 * @throws {BadArgumentError} when the root is not an existing directory or the cap is not a positive integer.
 * @example
 * ```ts
 * const runtime = createRuntime({ client, model, tools: [...createFileTools().tools, ...createWriteTools().tools] });
 * await runtime.delegate({ goal: 'Fix the typo in README.md', isolation: 'worktree' }).result;
 * ```
 */
export function createWriteTools(options: WriteToolsOptions = {}): WriteTools {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object', options);
  const root = options.root === undefined ? null : resolveRoot(options.root);
  const maxFileBytes = options.maxFileBytes ?? 1_000_000;
  if (!Number.isInteger(maxFileBytes) || maxFileBytes < 1) throw new BadArgumentError('maxFileBytes', 'an integer >= 1', options.maxFileBytes);

  const checkSize = (shown: string, text: string) => {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxFileBytes) throw new Error(`\`${shown}\` would be ${bytes} bytes, over the ${maxFileBytes}-byte limit of the write tools`);
  };

  const writeFileTool = defineTool({
    name: 'write_file',
    toolset: 'write',
    description:
      'Create a UTF-8 text file, or replace the whole content of one, under your working directory (missing directories are made). ' +
      `To change part of an existing file, use edit_file. At most ${maxFileBytes} bytes.`,
    parameters: z.object({
      path: z.string().min(1).describe('File path relative to your working directory, for example `src/notes.md`'),
      content: z.string().describe('The whole new content of the file'),
    }),
    execute: async ({ path: requested, content }, { cwd }) => {
      const base = await workingDirectoryOf(cwd, root);
      const target = await confineForWrite(base, requested);
      checkSize(target.shown, content);
      const existed = await stat(target.real).then(
        (info) => {
          if (!info.isFile()) throw new Error(`\`${target.shown}\` is ${info.isDirectory() ? 'a directory' : 'not a regular file'}; it cannot be written`);
          return true;
        },
        () => false,
      );
      await mkdir(path.dirname(target.real), { recursive: true });
      await writeText(target.real, content);
      const done = `${existed ? 'Replaced' : 'Created'} \`${target.shown}\`: ${count(lineCount(content), 'line')}, ${count(Buffer.byteLength(content), 'byte')}.`;
      return withEvidence(done, [{ kind: 'file', value: target.real }]);
    },
  });

  const editFileTool = defineTool({
    name: 'edit_file',
    toolset: 'write',
    description:
      'Edit a UTF-8 text file under your working directory by replacing an exact piece of its text. `old_text` must occur ' +
      'exactly once (give enough surrounding lines to make it unique), unless `replace_all` is true. Whitespace and line ' +
      'breaks must match; read the file first.',
    parameters: z.object({
      path: z.string().min(1).describe('File path relative to your working directory'),
      old_text: z.string().min(1, 'expected the exact text to replace (not empty)').describe('The exact text to replace, as it is in the file'),
      new_text: z.string().describe('The text to put in its place'),
      replace_all: z.boolean().default(false).describe('Replace every occurrence instead of requiring exactly one'),
    }),
    execute: async ({ path: requested, old_text: oldText, new_text: newText, replace_all: replaceAll }, { cwd }) => {
      const target = await confine(await workingDirectoryOf(cwd, root), requested);
      const info = await stat(target.real);
      if (!info.isFile()) throw new Error(`\`${target.shown}\` is ${info.isDirectory() ? 'a directory' : 'not a regular file'}; edit_file edits files`);
      if (info.size > maxFileBytes) throw new Error(`\`${target.shown}\` is ${info.size} bytes, over the ${maxFileBytes}-byte limit of the write tools`);
      const bytes = await readFile(target.real);
      if (bytes.subarray(0, 8_000).includes(0)) throw new Error(`\`${target.shown}\` is a binary file; edit_file edits text`);
      const text = bytes.toString('utf8');
      if (oldText === newText) throw new Error('`new_text` is the same as `old_text`: nothing would change');
      const lines = occurrenceLines(text, oldText);
      if (lines.length === 0) {
        throw new Error(`\`old_text\` was not found in \`${target.shown}\`; read the file and copy the text exactly, whitespace and line breaks included`);
      }
      if (lines.length > 1 && !replaceAll) {
        throw new Error(
          `\`old_text\` occurs ${lines.length} times in \`${target.shown}\` (lines ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', …' : ''}); ` +
            'give more surrounding text so it occurs once, or set replace_all to replace every one',
        );
      }
      const edited = replaceAll ? text.split(oldText).join(newText) : text.replace(oldText, () => newText);
      checkSize(target.shown, edited);
      await writeText(target.real, edited);
      const where = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', …' : ''}`;
      const done = `Edited \`${target.shown}\`: replaced ${lines.length === 1 ? '1 occurrence' : `${lines.length} occurrences`} (${where}); it now has ${count(lineCount(edited), 'line')}.`;
      return withEvidence(done, [{ kind: 'file', value: target.real }]);
    },
  });

  return Object.freeze({
    root,
    writeFile: writeFileTool,
    editFile: editFileTool,
    tools: Object.freeze<AnyTool[]>([writeFileTool, editFileTool]),
  });
}

async function writeText(file: string, text: string): Promise<void> {
  const handle = await open(file, WRITE_FLAGS, 0o644);
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
}

/** The 1-based line of each (non-overlapping) occurrence of `needle` in `text`. */
function occurrenceLines(text: string, needle: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + needle.length)) {
    for (let at = text.indexOf('\n', scanned); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line += 1;
    scanned = index;
    lines.push(line);
  }
  return lines;
}

function lineCount(text: string): number {
  if (text === '') return 0;
  const breaks = text.split('\n').length - 1;
  return text.endsWith('\n') ? breaks : breaks + 1;
}

const count = (value: number, unit: string) => `${value} ${unit}${value === 1 ? '' : 's'}`;
