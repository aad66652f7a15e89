/**
 * The live records of a store, kept as the texts of their lines (see
 * journal.ts): per key, its put line and the patch lines written since. A
 * record's patches are merged into its put line (parsed, applied, written
 * out again) only when it is read back, compacted, or, with `mergeAt`, once
 * its patches outgrow its put line: a patch costs the bytes of its changes.
 */
import { applyPatch } from './patch.js';
import { patchOf, putLine } from './journal.js';
import type { RecordLine } from './journal.js';
import type { StoreContents } from './store-types.js';

interface Entry {
  /** The record's put line. */
  text: string;
  /** Its patch lines since, in order; `null` with none. */
  patches: string[] | null;
  patchBytes: number;
}

export interface LiveRecordsOptions {
  /** Merges a record's patches once their bytes pass its put line's times this. @default never (merged when read or compacted) */
  mergeAt?: number;
}

export class LiveRecords {
  readonly #collections = new Map<string, Map<string, Entry>>();
  readonly #mergeAt: number;
  /** Bytes of the put lines, each with its newline: what a compaction writes, but what unmerged patches add. */
  bytes = 0;

  constructor(options: LiveRecordsOptions = {}) {
    this.#mergeAt = options.mergeAt ?? Number.POSITIVE_INFINITY;
  }

  has(collection: string, key: string): boolean {
    return this.#collections.get(collection)?.has(key) ?? false;
  }

  put(collection: string, key: string, text: string): void {
    let entries = this.#collections.get(collection);
    if (!entries) this.#collections.set(collection, (entries = new Map<string, Entry>()));
    const before = entries.get(key);
    if (before) this.bytes -= before.text.length + 1;
    entries.set(key, { text, patches: null, patchBytes: 0 });
    this.bytes += text.length + 1;
  }

  /** Adds a patch line to a record; false (nothing done) if the record is not there. */
  patch(collection: string, key: string, text: string): boolean {
    const entry = this.#collections.get(collection)?.get(key);
    if (!entry) return false;
    (entry.patches ??= []).push(text);
    entry.patchBytes += text.length + 1;
    if (entry.patchBytes > entry.text.length * this.#mergeAt) this.#merge(collection, key, entry);
    return true;
  }

  /** Removes a record; false if it was not there. */
  remove(collection: string, key: string): boolean {
    const entries = this.#collections.get(collection);
    const entry = entries?.get(key);
    if (!entry) return false;
    entries!.delete(key);
    this.bytes -= entry.text.length + 1;
    return true;
  }

  /** Every record's value, its patches applied (parsed anew: a copy). */
  contents(): StoreContents {
    const contents: StoreContents = new Map();
    for (const [name, entries] of this.#collections) {
      const values = new Map<string, unknown>();
      for (const [key, entry] of entries) values.set(key, valueOf(entry));
      contents.set(name, values);
    }
    return contents;
  }

  /** Every record's put line, its patches merged into it first. */
  *lines(): Generator<string> {
    for (const [name, entries] of this.#collections) {
      for (const [key, entry] of entries) {
        if (entry.patches) this.#merge(name, key, entry);
        yield entry.text;
      }
    }
  }

  #merge(collection: string, key: string, entry: Entry): void {
    const text = putLine(collection, key, valueOf(entry));
    this.bytes += text.length - entry.text.length;
    entry.text = text;
    entry.patches = null;
    entry.patchBytes = 0;
  }
}

function valueOf(entry: Entry): unknown {
  let value = (JSON.parse(entry.text) as RecordLine).v;
  for (const text of entry.patches ?? []) value = applyPatch(value, patchOf(JSON.parse(text) as RecordLine)!);
  return value;
}
