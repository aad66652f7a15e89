/**
 * The file formats of the file store, both JSON lines. A record line is
 * `{"c":collection,"k":key,"v":value}` (a put), `{"c":…,"k":…,"r":1}` (a
 * removal) or `{"c":…,"k":…,"s":[[path,value],…],"a":[[path,items],…]}` (a
 * patch: `s` and `a` are a {@link StorePatch}'s `set` and `append`, either
 * left out when empty). A journal is record lines appended one by one; a
 * snapshot is a header line, the live records (each a put line and the patch
 * lines since; put lines only after an explicit `compact()`), and an end
 * line with their count.
 *
 * Patch lines came with the store patches: a store written before them
 * reads as it always did; one holding patches, read by a version without
 * them, is refused as a `StoreCorruptError` naming the first patch line.
 */
import { ftruncateSync, openSync, closeSync, readFileSync } from 'node:fs';
import { StoreCorruptError } from '../errors.js';
import { checkPatch } from './patch.js';
import type { StorePatch } from './store-types.js';

export interface RecordLine {
  c: string;
  k: string;
  v?: unknown;
  r?: 1;
  s?: StorePatch['set'];
  a?: StorePatch['append'];
}

/** The patch a record line holds, or `null` for a put or a removal. */
export const patchOf = (record: RecordLine): StorePatch | null =>
  record.s === undefined && record.a === undefined ? null : { ...(record.s ? { set: record.s } : {}), ...(record.a ? { append: record.a } : {}) };

/** One record read back: its parsed form and its text (kept, so a snapshot is written without serialising again). */
export interface ReadRecord {
  record: RecordLine;
  text: string;
  /** Its 1-based line number in its file. */
  line: number;
}

export const putLine = (collection: string, key: string, value: unknown): string => {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new Error(`subagents: a store value must be plain JSON, got ${typeof value} for ${collection}/${key}`);
  }
  return JSON.stringify({ c: collection, k: key, v: value });
};

export const removeLine = (collection: string, key: string): string => JSON.stringify({ c: collection, k: key, r: 1 });

/** A patch's line, the patch checked first. */
export const patchLine = (collection: string, key: string, patch: StorePatch): string => {
  checkPatch(collection, key, patch);
  const { set, append } = patch;
  return JSON.stringify({ c: collection, k: key, s: set?.length ? set : undefined, a: append?.length ? append : undefined });
};

function parseRecord(file: string, line: number, text: string): RecordLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreCorruptError(file, line, `text that is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const record = parsed as Partial<RecordLine> | null;
  if (typeof record !== 'object' || record === null || typeof record.c !== 'string' || typeof record.k !== 'string') {
    throw new StoreCorruptError(file, line, 'JSON that is not a record (`c`, `k` and `v`, `r`, or `s` and `a`)');
  }
  const patch = patchOf(record as RecordLine);
  if (patch) {
    try {
      checkPatch(record.c, record.k, patch);
    } catch {
      throw new StoreCorruptError(file, line, 'a patch whose `s` or `a` is not a list of [path, value]');
    }
  } else if (!('v' in record) && record.r !== 1) {
    throw new StoreCorruptError(file, line, 'JSON that is not a record (`c`, `k` and `v`, `r`, or `s` and `a`)');
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
  const records = lines.map(({ line, text }) => ({ record: parseRecord(file, line, text), text, line }));
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
  return rest.map(({ line, text }) => ({ record: parseRecord(file, line, text), text, line }));
}
