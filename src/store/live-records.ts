/**
 * The live records of a store, kept as the texts of their lines (see
 * journal.ts): per key, its put line and the patch lines written since. A
 * patch costs the bytes of its changes; a record's patches are merged into
 * its put line (parsed, applied, written out again) once they outgrow it
 * `mergeAt` times, or when asked (`lines(true)`): so the live records are
 * at most `mergeAt + 1` times their merged size.
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

/** A record's patches are merged once their bytes pass its put line's times this. */
const MERGE_AT = 4;

export class LiveRecords {
  readonly #collections = new Map<string, Map<string, Entry>>();
  /** Bytes of the lines, each with its newline: what `lines(false)` gives. */
  bytes = 0;

  has(collection: string, key: string): boolean {
    return this.#collections.get(collection)?.has(key) ?? false;
  }

  put(collection: string, key: string, text: string): void {
    let entries = this.#collections.get(collection);
    if (!entries) this.#collections.set(collection, (entries = new Map<string, Entry>()));
    const before = entries.get(key);
    if (before) this.bytes -= before.text.length + 1 + before.patchBytes;
    entries.set(key, { text, patches: null, patchBytes: 0 });
    this.bytes += text.length + 1;
  }

  /** Adds a patch line to a record; false (nothing done) if the record is not there. */
  patch(collection: string, key: string, text: string): boolean {
    const entry = this.#collections.get(collection)?.get(key);
    if (!entry) return false;
    (entry.patches ??= []).push(text);
    entry.patchBytes += text.length + 1;
    this.bytes += text.length + 1;
    if (entry.patchBytes > entry.text.length * MERGE_AT) this.#merge(collection, key, entry);
    return true;
  }

  /** Removes a record; false if it was not there. */
  remove(collection: string, key: string): boolean {
    const entries = this.#collections.get(collection);
    const entry = entries?.get(key);
    if (!entry) return false;
    entries!.delete(key);
    this.bytes -= entry.text.length + 1 + entry.patchBytes;
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

  /** Every record's lines: its put line then its patch lines, or (`merge`) its put line with its patches merged into it. */
  *lines(merge: boolean): Generator<string> {
    for (const [name, entries] of this.#collections) {
      for (const [key, entry] of entries) {
        if (merge && entry.patches) this.#merge(name, key, entry);
        yield entry.text;
        if (entry.patches) yield* entry.patches;
      }
    }
  }

  #merge(collection: string, key: string, entry: Entry): void {
    const text = putLine(collection, key, valueOf(entry));
    this.bytes += text.length - entry.text.length - entry.patchBytes;
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
