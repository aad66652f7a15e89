/** The sanitiser's settings and what it keeps between events: its caches, bounded. */
import type { AnyEventObject, ActorRefLike } from 'xstate';

export interface Settings {
  maxStringLength: number;
  maxArrayItems: number;
  maxDepth: number;
  secrets: readonly string[];
}

/**
 * Settings and what has been sanitized under them. Inspection sees the same
 * data over and over (an event in several inspection events, a snapshot in two,
 * a context in several snapshots, the same goal in every context), so results
 * are kept:
 *
 * - strings, in a bounded map;
 * - the last few events and snapshots, by identity, snapshots checked against
 *   the fields they were made from;
 * - plain objects and arrays reached from a snapshot's data or an event, per
 *   object: XState snapshots, contexts and events are immutable once emitted.
 *
 * The supervisor's context is the exception: it is mutated in place (`tree`,
 * `slots`, and also `paused`, `nextKey`, `limits`), so nothing read from it is
 * cached and its counts are recounted for every event. Action parameters,
 * values that are not plain data (dates, errors) and anything that met a
 * cycle are never cached either.
 */
export interface Sanitizer {
  settings: Settings;
  strings: Map<string, string>;
  /** Characters of source text held by {@link Sanitizer.strings}' keys. */
  stringChars: number;
  values: WeakMap<object, CachedValue>;
  snapshots: Recent<object, CachedSnapshot>;
  events: Recent<object, AnyEventObject>;
  refs: WeakMap<object, ActorRefLike>;
}

/**
 * A sanitized object. How deep a value sits decides where it is cut, so a
 * result is reused only where it comes out the same: at any depth that leaves
 * room for its `height` (levels of objects, itself included) if nothing in it
 * was cut, only at its own `depth` otherwise.
 */
export interface CachedValue {
  result: unknown;
  depth: number;
  height: number;
  cut: boolean;
}

export interface CachedSnapshot {
  context: unknown;
  output: unknown;
  error: unknown;
  input: unknown;
  result: unknown;
}

/** One walk over a value. */
export interface Walk {
  /** Whether results may be read from and kept in the sanitizer's per-object cache. */
  cache: boolean;
  /** Objects being copied, outermost first: meeting one again is a cycle. */
  ancestors: object[];
  /** Cycles met so far. A result that met one depends on where it was reached from, and is not kept. */
  cycles: number;
  /** Deepest depth an object was met at, within the object being copied: gives its height. */
  deepest: number;
}

/**
 * The last few values stored, by key identity. An event or snapshot shows up
 * again within a handful of inspection events, or not at all, so a short list
 * beats a WeakMap (whose entries also cost the garbage collector).
 */
export class Recent<K extends object, V> {
  private readonly keys: (K | undefined)[];
  private readonly values: (V | undefined)[];
  private next = 0;

  constructor(size: number) {
    this.keys = new Array<K | undefined>(size).fill(undefined);
    this.values = new Array<V | undefined>(size).fill(undefined);
  }

  get(key: K): V | undefined {
    const index = this.keys.indexOf(key);
    return index === -1 ? undefined : this.values[index];
  }

  set(key: K, value: V): void {
    const index = this.keys.indexOf(key);
    const slot = index === -1 ? this.next : index;
    if (index === -1) this.next = (this.next + 1) % this.keys.length;
    this.keys[slot] = key;
    this.values[slot] = value;
  }
}

export function createSanitizer(settings: Settings): Sanitizer {
  return {
    settings,
    strings: new Map(),
    stringChars: 0,
    values: new WeakMap(),
    snapshots: new Recent(4),
    events: new Recent(8),
    refs: new WeakMap(),
  };
}
