/**
 * Reading the file tools' text output back into data, for the scripted model:
 * its summaries quote what the real tools returned.
 */

/** A `list_files` result. */
export interface Listing {
  files: Array<{ path: string; size: number }>;
  directories: string[];
  /** Directories shown but not entered (ignored ones). */
  notListed: string[];
}

/** A `search_files` result. */
export interface SearchResult {
  total: number;
  matchedFiles: number;
  searchedFiles: number;
  matches: Array<{ path: string; line: number; text: string }>;
}

/** A `read_file` result. */
export interface FileText {
  path: string;
  lineCount: number;
  bytes: number;
  lines: string[];
}

export function parseListing(text: string): Listing {
  const listing: Listing = { files: [], directories: [], notListed: [] };
  for (const line of text.split('\n').slice(1)) {
    const file = /^(.+) \((\d+) bytes\)$/.exec(line);
    if (file) listing.files.push({ path: file[1]!, size: Number(file[2]) });
    else if (line.endsWith('/ (not listed)')) listing.notListed.push(line.slice(0, -'/ (not listed)'.length));
    else if (line.endsWith('/')) listing.directories.push(line.slice(0, -1));
  }
  return listing;
}

export function parseSearch(text: string): SearchResult {
  const [header = '', ...rest] = text.split('\n');
  const counts = /^(\d+) match(?:es)? for .* in (\d+) of (\d+) files?/.exec(header);
  const matches: SearchResult['matches'] = [];
  for (const line of rest) {
    const match = /^(.+?):(\d+): (.*)$/.exec(line);
    if (match) matches.push({ path: match[1]!, line: Number(match[2]), text: match[3]! });
  }
  return {
    total: Number(counts?.[1] ?? matches.length),
    matchedFiles: Number(counts?.[2] ?? new Set(matches.map((match) => match.path)).size),
    searchedFiles: Number(counts?.[3] ?? 0),
    matches,
  };
}

export function parseFileText(text: string): FileText | null {
  const [header = '', ...rest] = text.split('\n');
  const parsed = /^File `(.+)`: (\d+) lines, (\d+) bytes\./.exec(header);
  if (!parsed) return null;
  const lines = rest.filter((line, index) => !(index === rest.length - 1 && /^\[Lines \d+-\d+ not shown/.test(line)));
  return { path: parsed[1]!, lineCount: Number(parsed[2]), bytes: Number(parsed[3]), lines };
}

/** `.ts`, `.md`, … or `(none)` for a name without extension. */
export function extensionOf(filePath: string): string {
  const name = filePath.slice(filePath.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot) : '(none)';
}

/** `a, b and c` with at most `limit` items and a count of the rest. */
export function listOf(items: readonly string[], limit = 4): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, limit);
  const more = items.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`;
}

/** Counts as `key count` pairs, largest first, ties by key. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** The first sentence of a text, at most `limit` characters. */
export function firstSentence(text: string, limit = 220): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const end = flat.search(/[.!?](\s|$)/);
  const sentence = end === -1 ? flat : flat.slice(0, end + 1);
  return sentence.length > limit ? `${sentence.slice(0, limit - 1)}…` : sentence;
}

export function quote(text: string, limit = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat}"`;
}

/** `1 file`, `2 files`. */
export const plural = (count: number, one: string, many: string) => `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;

export const formatBytes = (bytes: number) => `${bytes.toLocaleString('en-US')} bytes`;
