import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BadArgumentError } from '../errors.js';
import { putLine, readJournal, readSnapshot, removeLine } from './journal.js';
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
 * - Bounded: the directory holds at most the snapshot (the live records) plus
 *   a journal of at most max(live records, `compactMinBytes`) and one
 *   record; during a compaction, briefly, one more snapshot.
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

/**
 * What a file store's directory holds, read without taking its lock or
 * changing a byte (a torn last line is skipped, not cut): for a person
 * looking at a store another process may be using (`subagents list`).
 */
export function readFileStore(directory: string): StoreContents {
  const { generation, hasSnapshot } = survey(directory);
  const contents: StoreContents = new Map();
  const apply = ({ record }: ReadRecord) => {
    let values = contents.get(record.c);
    if (!values) contents.set(record.c, (values = new Map<string, unknown>()));
    if (record.r === 1) values.delete(record.k);
    else values.set(record.k, record.v);
  };
  try {
    if (hasSnapshot) readSnapshot(path.join(directory, snapshotName(generation))).forEach(apply);
    readJournal(path.join(directory, journalName(generation)), false).records.forEach(apply);
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
  /** Live records: collection → key → the text of its put line. */
  const live = new Map<string, Map<string, string>>();
  let liveBytes = 0;
  /** What was read on open, parsed: handed to the first `load` rather than parsed again. */
  let opened: StoreContents | null = new Map();

  const apply = ({ record, text }: ReadRecord, parsed: StoreContents | null) => {
    let records = live.get(record.c);
    if (!records) live.set(record.c, (records = new Map<string, string>()));
    const before = records.get(record.k);
    if (before !== undefined) liveBytes -= before.length + 1;
    if (record.r === 1) {
      records.delete(record.k);
      parsed?.get(record.c)?.delete(record.k);
      return;
    }
    records.set(record.k, text);
    liveBytes += text.length + 1;
    if (parsed) {
      let values = parsed.get(record.c);
      if (!values) parsed.set(record.c, (values = new Map<string, unknown>()));
      values.set(record.k, record.v);
    }
  };

  if (hasSnapshot) for (const record of readSnapshot(path.join(directory, snapshotName(generation)))) apply(record, opened);
  let journalPath = path.join(directory, journalName(generation));
  let journalBytes = 0;
  try {
    const read = readJournal(journalPath);
    for (const record of read.records) apply(record, opened);
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

  const compact = () => {
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
      for (const records of live.values()) {
        for (const text of records.values()) {
          chunks.push(text);
          count += 1;
          size += text.length;
          if (size > 1 << 20) flush();
        }
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
    if (journalBytes > compactMinBytes && journalBytes > liveBytes) compact();
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
      const contents: StoreContents = new Map();
      for (const [name, records] of live) {
        contents.set(name, new Map([...records].map(([key, text]) => [key, (JSON.parse(text) as { v: unknown }).v])));
      }
      return contents;
    },
    put(collection, key, value) {
      requireOpen();
      opened = null;
      const text = putLine(collection, key, value);
      append(text);
      apply({ record: { c: collection, k: key }, text }, null);
      maybeCompact();
    },
    remove(collection, key) {
      requireOpen();
      opened = null;
      if (!live.get(collection)?.has(key)) return;
      const text = removeLine(collection, key);
      append(text);
      apply({ record: { c: collection, k: key, r: 1 }, text }, null);
      maybeCompact();
    },
    sync() {
      requireOpen();
      dirty = true;
      syncNow();
    },
    compact,
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
