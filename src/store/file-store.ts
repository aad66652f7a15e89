import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BadArgumentError, StoreCorruptError } from '../errors.js';
import { patchLine, patchOf, putLine, readJournal, readSnapshot, removeLine } from './journal.js';
import { LiveRecords } from './live-records.js';
import { applyPatch } from './patch.js';
import type { ReadRecord } from './journal.js';
import { acquireLock } from './lock.js';
import type { FileStoreOptions, Store, StoreContents } from './store-types.js';

const JOURNAL = /^journal-(\d+)\.jsonl$/;
const SNAPSHOT = /^snapshot-(\d+)\.jsonl$/;
const journalName = (generation: number) => `journal-${generation}.jsonl`;
const snapshotName = (generation: number) => `snapshot-${generation}.jsonl`;

const DEFAULT_COMPACT_MIN_BYTES = 1 << 20;

function checkOptions(directory: unknown, options: FileStoreOptions): Required<FileStoreOptions> {
  if (typeof directory !== 'string' || directory.length === 0) throw new BadArgumentError('directory', 'a directory path', directory);
  const sync = options.sync ?? 'write';
  if (sync !== 'write' && sync !== 'fsync-batched') throw new BadArgumentError('sync', "'write' or 'fsync-batched'", sync);
  const fsyncIntervalMs = options.fsyncIntervalMs ?? 100;
  if (!Number.isFinite(fsyncIntervalMs) || fsyncIntervalMs < 1) throw new BadArgumentError('fsyncIntervalMs', 'a number of milliseconds >= 1', fsyncIntervalMs);
  const compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
  if (!Number.isInteger(compactMinBytes) || compactMinBytes < 0) throw new BadArgumentError('compactMinBytes', 'an integer >= 0', compactMinBytes);
  return { sync, fsyncIntervalMs, compactMinBytes };
}

function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The newest generation on disk, its files, and the files of older generations (left by a compaction cut short). */
function survey(directory: string): { generation: number; hasSnapshot: boolean; stale: string[] } {
  const names = readdirSync(directory);
  let generation = 0;
  let hasSnapshot = false;
  for (const name of names) {
    const match = SNAPSHOT.exec(name);
    if (match && Number(match[1]) >= generation) {
      generation = Number(match[1]);
      hasSnapshot = true;
    }
  }
  const stale = names.filter((name) => {
    if (name.endsWith('.jsonl.tmp')) return true;
    const match = SNAPSHOT.exec(name) ?? JOURNAL.exec(name);
    return match !== null && Number(match[1]) < generation;
  });
  return { generation, hasSnapshot, stale };
}

/**
 * The built-in durable store: a directory holding an append-only journal of
 * JSON lines (one line per record) and, once the journal has grown past the
 * live records, a compacted snapshot of them. No native dependency.
 *
 * - A torn last line (a crash in the middle of a write) is dropped on open; a
 *   bad line elsewhere is a `StoreCorruptError` naming the file and the line.
 * - A lock file names the holder: a dead holder on this host is taken over, a
 *   live one gives `StoreLockedError { pid }`. Local file systems only.
 * - A record is written whole by `put`, then as its changes by `patch`; a
 *   record's patches are merged into it once they are four times its size,
 *   and by `compact()`.
 * - Bounded: the directory holds at most the snapshot (the live records, with
 *   their patches not merged yet) plus a journal of at most max(live records,
 *   `compactMinBytes`) and one record; during a compaction, briefly, one more
 *   snapshot.
 *
 * @example
 * ```ts
 * const runtime = createRuntime({ client, model, store: fileStore('.subagents', { sync: 'fsync-batched' }) });
 * ```
 */
export function fileStore(directory: string, options: FileStoreOptions = {}): Store {
  const { sync, fsyncIntervalMs, compactMinBytes } = checkOptions(directory, options);
  mkdirSync(directory, { recursive: true });
  const release = acquireLock(directory);
  try {
    return openFileStore(directory, sync, fsyncIntervalMs, compactMinBytes, release);
  } catch (error) {
    release();
    throw error;
  }
}

/** Applies a record read from `file` to parsed contents; a patch of a record not there is corrupt. */
function applyRead(contents: StoreContents, { record, line }: ReadRecord, file: string): void {
  let values = contents.get(record.c);
  if (!values) contents.set(record.c, (values = new Map<string, unknown>()));
  const patch = patchOf(record);
  if (record.r === 1) values.delete(record.k);
  else if (!patch) values.set(record.k, record.v);
  else if (values.has(record.k)) values.set(record.k, applyPatch(values.get(record.k), patch));
  else throw new StoreCorruptError(file, line, `a patch of ${record.c}/${record.k}, a record not there`);
}

/**
 * What a file store's directory holds, read without taking its lock or
 * changing a byte (a torn last line is skipped, not cut): for a person
 * looking at a store another process may be using (`subagents list`).
 */
export function readFileStore(directory: string): StoreContents {
  const { generation, hasSnapshot } = survey(directory);
  const contents: StoreContents = new Map();
  const snapshot = path.join(directory, snapshotName(generation));
  const journal = path.join(directory, journalName(generation));
  try {
    if (hasSnapshot) for (const record of readSnapshot(snapshot)) applyRead(contents, record, snapshot);
    for (const record of readJournal(journal, false).records) applyRead(contents, record, journal);
  } catch (error) {
    // A compaction moved on meanwhile: read the newer generation.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && survey(directory).generation !== generation) return readFileStore(directory);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return contents;
}

function openFileStore(directory: string, sync: FileStoreOptions['sync'], fsyncIntervalMs: number, compactMinBytes: number, release: () => void): Store {
  const found = survey(directory);
  let { generation, hasSnapshot } = found;
  /** Live records, as the texts of their lines. */
  const live = new LiveRecords();
  /** What was read on open, parsed: handed to the first `load` rather than parsed again. */
  let opened: StoreContents | null = new Map();

  const replay = (read: ReadRecord, file: string) => {
    applyRead(opened!, read, file);
    const { record, text } = read;
    if (record.r === 1) live.remove(record.c, record.k);
    else if (patchOf(record)) live.patch(record.c, record.k, text);
    else live.put(record.c, record.k, text);
  };

  if (hasSnapshot) {
    const file = path.join(directory, snapshotName(generation));
    for (const record of readSnapshot(file)) replay(record, file);
  }
  let journalPath = path.join(directory, journalName(generation));
  let journalBytes = 0;
  try {
    const read = readJournal(journalPath);
    for (const record of read.records) replay(record, journalPath);
    journalBytes = read.bytes;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Files of older generations: a compaction that was cut short left them; the newest snapshot holds what they held.
  for (const name of found.stale) unlinkSync(path.join(directory, name));
  let fd = openSync(journalPath, 'a');
  let closed = false;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;

  const requireOpen = () => {
    if (closed) throw new Error(`subagents: the store \`${directory}\` is closed and takes no more records`);
  };

  const syncNow = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (dirty && !closed) fdatasyncSync(fd);
    dirty = false;
  };

  const append = (line: string) => {
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    // One write per record: a crash leaves at most this one line torn.
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    journalBytes += bytes.length;
    if (sync === 'fsync-batched') {
      dirty = true;
      timer ??= setTimeout(syncNow, fsyncIntervalMs).unref();
    }
  };

  /** Rewrites the journal as a snapshot of the live records: their lines as they are, or (`merge`) one put line each. */
  const compact = (merge: boolean) => {
    requireOpen();
    const next = generation + 1;
    const target = path.join(directory, snapshotName(next));
    const aside = `${target}.tmp`;
    const out = openSync(aside, 'w');
    try {
      let count = 0;
      const chunks: string[] = [JSON.stringify({ snapshot: 1, generation: next })];
      let size = 0;
      const flush = () => {
        writeSync(out, `${chunks.join('\n')}\n`);
        chunks.length = 0;
        size = 0;
      };
      for (const text of live.lines(merge)) {
        chunks.push(text);
        count += 1;
        size += text.length;
        if (size > 1 << 20) flush();
      }
      chunks.push(JSON.stringify({ end: count }));
      flush();
      // A snapshot replaces the journal: it must be on disk, whatever the sync policy, before the journal goes.
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(aside, target);
    syncDirectory(directory);
    const previous = { journal: journalPath, snapshot: hasSnapshot ? path.join(directory, snapshotName(generation)) : null };
    closeSync(fd);
    generation = next;
    hasSnapshot = true;
    journalPath = path.join(directory, journalName(generation));
    fd = openSync(journalPath, 'a');
    journalBytes = 0;
    dirty = false;
    unlinkSync(previous.journal);
    if (previous.snapshot) unlinkSync(previous.snapshot);
  };

  const maybeCompact = () => {
    if (journalBytes > compactMinBytes && journalBytes > live.bytes) compact(false);
  };

  return {
    kind: 'file',
    get closed() {
      return closed;
    },
    load() {
      if (opened) {
        const contents = opened;
        opened = null;
        return contents;
      }
      return live.contents();
    },
    put(collection, key, value) {
      requireOpen();
      opened = null;
      const text = putLine(collection, key, value);
      append(text);
      live.put(collection, key, text);
      maybeCompact();
    },
    patch(collection, key, patch) {
      requireOpen();
      opened = null;
      if (!live.has(collection, key)) throw new Error(`subagents: no record ${collection}/${key} to patch in the store \`${directory}\``);
      const text = patchLine(collection, key, patch);
      append(text);
      live.patch(collection, key, text);
      maybeCompact();
    },
    remove(collection, key) {
      requireOpen();
      opened = null;
      if (!live.has(collection, key)) return;
      append(removeLine(collection, key));
      live.remove(collection, key);
      maybeCompact();
    },
    sync() {
      requireOpen();
      dirty = true;
      syncNow();
    },
    compact() {
      compact(true);
    },
    close() {
      if (closed) return;
      try {
        dirty = true;
        syncNow();
        closeSync(fd);
      } finally {
        closed = true;
        release();
      }
    },
  };
}
