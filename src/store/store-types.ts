/** The store interface: where a runtime keeps what its charts emit, so a new process can restore it. */

/** Everything a store holds: per collection, per key, a plain-JSON value. */
export type StoreContents = Map<string, Map<string, unknown>>;

/** A path of object keys inside a record's value (never empty: the whole value is a `put`). */
export type StorePath = readonly string[];

/**
 * Changes to part of a record's value. The `set`s apply first, in order: each
 * replaces what is at its path; where the path meets a key that is missing or
 * not a plain object, an empty object is put there first. Then the `append`s,
 * in order: each adds its items at the end of the array at its path (an
 * empty array first if there is none). So any patch applies to any value.
 */
export interface StorePatch {
  set?: ReadonlyArray<readonly [path: StorePath, value: unknown]>;
  append?: ReadonlyArray<readonly [path: StorePath, items: readonly unknown[]]>;
}

/**
 * A key-value store in collections, written one record at a time. Every call
 * is synchronous: a record is written when `put` returns (as durably as the
 * store's sync policy says), so what a caller was told happened is on disk
 * before it can act on it. Values are plain JSON: never a client, a key or a
 * function.
 */
export interface Store {
  /** `'memory'`: kept in this process only; `'file'`: survives the process; `'redis'`: kept in Redis (`redisStore`). */
  readonly kind: 'memory' | 'file' | 'redis';
  /** Everything held, per collection (a copy: changing it changes nothing). */
  load(): StoreContents;
  /** Sets a key of a collection. */
  put(collection: string, key: string, value: unknown): void;
  /**
   * Changes part of a key's value, the key being there (else an error): as
   * durable as a `put` when it returns, and written as the changes only;
   * `load` gives the value with them applied. Optional: a writer falls back
   * on `put` of the whole value with a store that has none.
   */
  patch?(collection: string, key: string, patch: StorePatch): void;
  /** Removes a key of a collection (nothing if absent). */
  remove(collection: string, key: string): void;
  /** Makes everything written so far durable by the store's strongest means (an `fdatasync` for a file store). */
  sync(): void;
  /** Rewrites the store as its live records only. */
  compact(): void;
  /** Syncs and releases the store (its lock); further writes throw. */
  close(): void;
  /** True once closed. */
  readonly closed: boolean;
  /**
   * For a store that writes behind (`redisStore`): resolves once every write
   * made so far is acknowledged by its backend. The runtime awaits it at
   * shutdown, after `close()`.
   */
  flush?(): Promise<void>;
}

/** How a file store makes its writes durable. */
export type SyncPolicy = 'write' | 'fsync-batched';

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /**
   * `'write'`: one synchronous write per record; survives the death of the
   * process, not of the machine (the OS may still hold the bytes).
   * `'fsync-batched'`: also an `fdatasync` at most every `fsyncIntervalMs`;
   * survives power loss except for the records of that last window.
   * @default 'write'
   */
  sync?: SyncPolicy;
  /** With `'fsync-batched'`: the longest time written records wait for their `fdatasync`. @default 100 */
  fsyncIntervalMs?: number;
  /**
   * The journal is compacted (rewritten as a snapshot of the live records)
   * once it is bigger than the live records and than this many bytes.
   * @default 1048576
   */
  compactMinBytes?: number;
}
