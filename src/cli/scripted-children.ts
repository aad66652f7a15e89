/**
 * What the scripted model does as a subagent of the survey: a short plan of
 * real file-tool calls, each step chosen from what the previous ones
 * returned, then a summary quoting that output.
 */
import type { ScriptedToolCall } from '../testing/index.js';
import {
  countBy,
  extensionOf,
  firstSentence,
  formatBytes,
  listOf,
  parseFileText,
  parseListing,
  parseSearch,
  plural,
  quote,
} from './survey-parsing.js';
import { SURVEY_TASKS } from './survey.js';

/** A tool call of the conversation so far, with its result. */
export interface ToolExchange {
  name: string;
  args: Record<string, unknown>;
  content: string;
}

/** The next step of a subagent: tool calls, or its final answer. */
export type ChildStep = { toolCalls: ScriptedToolCall[] } | { answer: string };

const SOURCE_DIRECTORIES = ['src', 'lib', 'source', 'app', 'packages'];
const SKIPPED_DIRECTORIES = new Set(['dist', 'build', 'coverage', 'out', 'target', 'vendor']);
const MANIFESTS = ['package.json', 'pyproject.toml', 'Cargo.toml', 'go.mod', 'pom.xml'];

const call = (name: string, args: Record<string, unknown>): ScriptedToolCall => ({ name, arguments: args });
const isError = (content: string) => content.startsWith('Error:');

/**
 * The next step of the subagent whose goal is `goal`, after `turns` model
 * calls whose tool results are `exchanges`.
 */
export function childStep(goal: string, turns: number, exchanges: readonly ToolExchange[]): ChildStep {
  const task = SURVEY_TASKS.find((candidate) => goal.startsWith(candidate.label));
  const root = exchanges[0]?.content ?? '';
  if (turns === 0) return { toolCalls: [call('list_files', { path: '.' })] };
  if (isError(root)) return { answer: `I could not list the project root: ${firstSentence(root)}` };
  const listing = parseListing(root);
  switch (task?.label) {
    case 'Map the files': {
      if (turns === 1) {
        const directory = sourceDirectory(listing.directories);
        if (directory !== null) return { toolCalls: [call('list_files', { path: directory, recursive: true })] };
      }
      return { answer: summariseFiles(root, exchanges[1]) };
    }
    case 'Find markers and exports': {
      const where = listing.directories.includes('src') ? 'src' : '.';
      if (turns === 1) {
        return {
          toolCalls: [
            call('search_files', { pattern: 'TODO|FIXME', path: where }),
            call('search_files', { pattern: '^export ', path: where }),
          ],
        };
      }
      return { answer: summariseMarkers(where, exchanges[1], exchanges[2]) };
    }
    case 'Read the docs': {
      const readme = listing.files.find((file) => /^readme(\.[a-z]+)?$/i.test(file.path));
      const manifest = MANIFESTS.map((name) => listing.files.find((file) => file.path === name)).find(Boolean);
      const wanted = [readme, manifest].filter((file) => file !== undefined);
      if (turns === 1 && wanted.length > 0) {
        return { toolCalls: wanted.map((file) => call('read_file', { path: file.path, max_lines: 80 })) };
      }
      return { answer: summariseDocs(listing.files.length, exchanges.slice(1)) };
    }
    default:
      return { answer: `The project root has ${plural(listing.files.length, 'file', 'files')} and ${plural(listing.directories.length, 'directory', 'directories')}.` };
  }
}

function sourceDirectory(directories: readonly string[]): string | null {
  return (
    SOURCE_DIRECTORIES.find((name) => directories.includes(name)) ??
    directories.find((name) => !SKIPPED_DIRECTORIES.has(name) && !name.startsWith('.')) ??
    null
  );
}

function summariseFiles(rootText: string, deep: ToolExchange | undefined): string {
  const root = parseListing(rootText);
  const directories = [...root.directories, ...root.notListed];
  const sentences = [
    `The project root has ${plural(root.files.length, 'file', 'files')} (${listOf(root.files.map((file) => file.path))}) and ` +
      `${plural(directories.length, 'directory', 'directories')} (${listOf(directories)}).`,
  ];
  if (deep && isError(deep.content)) sentences.push(`Listing \`${String(deep.args.path)}\` failed: ${firstSentence(deep.content)}`);
  else if (deep) {
    const listing = parseListing(deep.content);
    const byExtension = countBy(listing.files, (file) => extensionOf(file.path));
    const largest = [...listing.files].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)).slice(0, 3);
    sentences.push(
      `\`${String(deep.args.path)}\` holds ${plural(listing.files.length, 'file', 'files')} in ${plural(listing.directories.length, 'subdirectory', 'subdirectories')}` +
        (deep.content.includes('[Stopped after') ? ' (the listing stopped at its entry cap)' : '') +
        `; by extension: ${byExtension.slice(0, 5).map(([extension, count]) => `${extension} ${count}`).join(', ') || 'none'}.`,
    );
    if (largest.length > 0) sentences.push(`Largest: ${largest.map((file) => `${file.path} (${formatBytes(file.size)})`).join(', ')}.`);
  }
  return sentences.join(' ');
}

function summariseMarkers(where: string, todo: ToolExchange | undefined, exports: ToolExchange | undefined): string {
  if (!todo || !exports) return `I could not search \`${where}\`.`;
  if (isError(todo.content)) return `Searching \`${where}\` failed: ${firstSentence(todo.content)}`;
  const markers = parseSearch(todo.content);
  const exported = parseSearch(exports.content);
  const first = markers.matches[0];
  const perFile = countBy(exported.matches, (match) => match.path);
  const capped = exports.content.includes('[Stopped at') ? ' (capped)' : '';
  return [
    `I searched \`${where}\` (${plural(markers.searchedFiles, 'file', 'files')}).`,
    `TODO/FIXME markers: ${markers.total} in ${plural(markers.matchedFiles, 'file', 'files')}` +
      (first ? `, the first at ${first.path}:${first.line} (${quote(first.text, 70)}).` : '.'),
    `Lines starting with \`export\`: ${exported.total}${capped} in ${plural(exported.matchedFiles, 'file', 'files')}` +
      (perFile[0] ? `; the most in ${perFile[0][0]} (${perFile[0][1]}).` : '.'),
    exported.matches.length > 0
      ? `Examples: ${exported.matches.slice(0, 3).map((match) => `${match.path}:${match.line} ${quote(match.text, 60)}`).join('; ')}.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function summariseDocs(rootFiles: number, reads: readonly ToolExchange[]): string {
  if (reads.length === 0) return `The project root has ${plural(rootFiles, 'file', 'files')} but no README and no package manifest.`;
  const sentences: string[] = [];
  for (const read of reads) {
    const file = isError(read.content) ? null : parseFileText(read.content);
    if (!file) {
      sentences.push(`Reading \`${String(read.args.path)}\` failed: ${firstSentence(read.content)}`);
      continue;
    }
    sentences.push(file.path === 'package.json' ? describePackage(file.lines, file.lineCount) : describeText(file.path, file.lines, file.lineCount));
  }
  return sentences.join(' ');
}

function describeText(path: string, lines: readonly string[], lineCount: number): string {
  const title = lines.find((line) => /^#\s/.test(line))?.replace(/^#+\s*/, '');
  const paragraph = lines.find((line) => line.trim() !== '' && !/^(#|!\[|\[!\[|<|```|---|\s*[-*] )/.test(line.trim()));
  return (
    `${path} (${lineCount} lines)` +
    (title ? ` is titled ${quote(title, 60)}` : '') +
    (paragraph ? `${title ? ' and' : ''} begins: ${quote(paragraph, 160)}.` : '.')
  );
}

function describePackage(lines: readonly string[], lineCount: number): string {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(lines.join('\n')) as Record<string, unknown>;
  } catch {
    return `package.json (${lineCount} lines) does not parse as JSON from the part read.`;
  }
  const count = (field: string) => Object.keys((manifest[field] as Record<string, unknown> | undefined) ?? {}).length;
  const scripts = Object.keys((manifest.scripts as Record<string, unknown> | undefined) ?? {});
  const name = typeof manifest.name === 'string' ? manifest.name : '(unnamed)';
  const version = typeof manifest.version === 'string' ? `@${manifest.version}` : '';
  const description = typeof manifest.description === 'string' ? ` (${quote(manifest.description, 110)})` : '';
  return (
    `package.json: ${name}${version}${description}, ${plural(count('dependencies'), 'dependency', 'dependencies')} and ` +
    `${plural(count('devDependencies'), 'dev dependency', 'dev dependencies')}; scripts: ${listOf(scripts, 8)}.`
  );
}
