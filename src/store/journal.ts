/**
 * The file formats of the file store, both JSON lines. A record line is
 * `{"c":collection,"k":key,"v":value}` (a put) or `{"c":…,"k":…,"r":1}` (a
 * removal). A journal is record lines appended one by one; a snapshot is a
 * header line, the live records, and an end line with their count.
 */
import { ftruncateSync, openSync, closeSync, readFileSync } from 'node:fs';
import { StoreCorruptError } from '../errors.js';

export interface RecordLine {
  c: string;
  k: string;
  v?: unknown;
  r?: 1;
}

/** One record read back: its parsed form and its text (kept, so a snapshot is written without serialising again). */
export interface ReadRecord {
  record: RecordLine;
  text: string;
}

export const putLine = (collection: string, key: string, value: unknown): string => {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new Error(`subagents: a store value must be plain JSON, got ${typeof value} for ${collection}/${key}`);
  }
  return JSON.stringify({ c: collection, k: key, v: value });
};

export const removeLine = (collection: string, key: string): string => JSON.stringify({ c: collection, k: key, r: 1 });

function parseRecord(file: string, line: number, text: string): RecordLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreCorruptError(file, line, `text that is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const record = parsed as Partial<RecordLine> | null;
  if (typeof record !== 'object' || record === null || typeof record.c !== 'string' || typeof record.k !== 'string' || (!('v' in record) && record.r !== 1)) {
    throw new StoreCorruptError(file, line, 'JSON that is not a record (`c`, `k` and `v` or `r`)');
  }
  return record as RecordLine;
}

/** Complete lines of a file, each with its 1-based number, and the bytes of an unterminated last line. */
function linesOf(file: string): { lines: Array<{ line: number; text: string }>; completeBytes: number; tornBytes: number } {
  const buffer = readFileSync(file);
  const end = buffer.lastIndexOf(0x0a) + 1;
  const lines: Array<{ line: number; text: string }> = [];
  let start = 0;
  let number = 0;
  while (start < end) {
    const next = buffer.indexOf(0x0a, start);
    number += 1;
    if (next > start) lines.push({ line: number, text: buffer.toString('utf8', start, next) });
    start = next + 1;
  }
  return { lines, completeBytes: end, tornBytes: buffer.length - end };
}

/**
 * Reads a journal. A last line without its newline is what a crash in the
 * middle of a write leaves: it is dropped, and cut off the file so later
 * records start on a line of their own. A bad line anywhere else is a
 * {@link StoreCorruptError} naming the file and the line.
 */
export function readJournal(file: string, repair = true): { records: ReadRecord[]; bytes: number; droppedTail: number } {
  const { lines, completeBytes, tornBytes } = linesOf(file);
  const records = lines.map(({ line, text }) => ({ record: parseRecord(file, line, text), text }));
  if (tornBytes > 0 && repair) {
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, completeBytes);
    } finally {
      closeSync(fd);
    }
  }
  return { records, bytes: completeBytes, droppedTail: tornBytes };
}

/** Reads a snapshot: written aside and renamed into place whole, so anything short of its end line is corrupt. */
export function readSnapshot(file: string): ReadRecord[] {
  const { lines, tornBytes } = linesOf(file);
  const [header, ...rest] = lines;
  const footer = rest.pop();
  const count = (() => {
    try {
      const head = JSON.parse(header?.text ?? 'null') as { snapshot?: unknown } | null;
      const end = JSON.parse(footer?.text ?? 'null') as { end?: unknown } | null;
      return head?.snapshot === 1 && typeof end?.end === 'number' ? end.end : null;
    } catch {
      return null;
    }
  })();
  if (tornBytes > 0 || count === null || count !== rest.length) {
    const last = (footer ?? header)?.line ?? 1;
    throw new StoreCorruptError(file, last, 'a snapshot without its header and end line (cut short or altered)');
  }
  return rest.map(({ line, text }) => ({ record: parseRecord(file, line, text), text }));
}
