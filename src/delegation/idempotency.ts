/**
 * Idempotency keys of `spawn` and `delegate`: a call that gives a key its
 * caller already used is a replay, answered with what the first call
 * returned (the same handle snapshot, the same delegation) and nothing new
 * is started. The agent tools give the model's tool-call id, so an agent
 * loop that runs a call again (after a restart) gets the same children.
 *
 * A key is scoped to its caller (the parent handle; the root agent), since
 * servers reuse ids like `call_0` across conversations. It lives as long as
 * the handles it names: forgetting one of them, or the caller, drops it. With
 * a store, keys are kept in it and come back with a restore.
 */
import { createHash } from 'node:crypto';
import { BadArgumentError } from '../errors.js';
import type { Store, StoreContents } from '../store/store-types.js';
import type { HandleSnapshot } from '../types.js';
import type { DelegationOutcome } from './delegation-types.js';

/** The collection of idempotency keys. */
export const IDEMPOTENCY = 'idempotency';

/** The longest key taken. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** What the first call with a key returned. */
export type FirstCall = { kind: 'spawn'; handle: HandleSnapshot } | { kind: 'delegate'; delegationId: string; handleIds: string[] };

/** A key as stored. */
export interface StoredKey {
  parentId: string | null;
  key: string;
  /** A digest of the call's arguments: a replay must bring the same ones. */
  digest: string;
  call: FirstCall;
}

interface Entry extends StoredKey {
  /** A delegation's result (in memory only: a restore finds it again by the delegation's id). */
  result?: Promise<DelegationOutcome>;
}

/** Checks an `idempotencyKey` option: `null` when left out. */
export function checkIdempotencyKey(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new BadArgumentError('idempotencyKey', `a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, value);
  }
  return value;
}

/** JSON with object keys sorted and `undefined` left out: equal arguments give equal text, whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonical(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined && typeof item !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The digest a replay's arguments are compared by. */
export function argumentsDigest(kind: FirstCall['kind'], args: unknown): string {
  return createHash('sha256').update(`${kind}\n${canonical(args)}`).digest('base64url');
}

const scopeKey = (parentId: string | null, key: string) => JSON.stringify([parentId, key]);

/** The keys of a runtime. */
export class IdempotencyKeys {
  readonly #entries = new Map<string, Entry>();
  /** Per handle id, the keys that name it (as a child, or as their caller). */
  readonly #byHandle = new Map<string, Set<string>>();
  /** Per delegation id, its key. */
  readonly #byDelegation = new Map<string, string>();

  constructor(private readonly store: Store | null) {}

  /**
   * The first call's answer when `key` was used by this caller before;
   * `null` when it is new.
   *
   * @throws {BadArgumentError} when the key was used for other arguments (or for the other method).
   */
  replay(parentId: string | null, key: string, kind: FirstCall['kind'], digest: string): FirstCall & { result?: Promise<DelegationOutcome> } | null {
    const entry = this.#entries.get(scopeKey(parentId, key));
    if (!entry) return null;
    if (entry.call.kind !== kind || entry.digest !== digest) {
      const first = entry.call.kind === 'spawn' ? `a spawn of \`${entry.call.handle.id}\`` : `the delegation \`${entry.call.delegationId}\``;
      throw new BadArgumentError(
        'idempotencyKey',
        `a key its caller has not used for other arguments (it names ${first}: a replay must repeat that ${entry.call.kind}'s arguments)`,
        key,
      );
    }
    return { ...structuredClone(entry.call), ...(entry.result ? { result: entry.result } : {}) };
  }

  /** Keeps the first call's answer under its key. */
  record(parentId: string | null, key: string, digest: string, call: FirstCall, result?: Promise<DelegationOutcome>): void {
    const stored: StoredKey = { parentId, key, digest, call: structuredClone(call) };
    this.#add({ ...stored, ...(result ? { result } : {}) });
    this.store?.put(IDEMPOTENCY, scopeKey(parentId, key), stored);
  }

  #add(entry: Entry): void {
    const id = scopeKey(entry.parentId, entry.key);
    this.#entries.set(id, entry);
    for (const handleId of this.#handlesOf(entry)) {
      let keys = this.#byHandle.get(handleId);
      if (!keys) this.#byHandle.set(handleId, (keys = new Set()));
      keys.add(id);
    }
    if (entry.call.kind === 'delegate') this.#byDelegation.set(entry.call.delegationId, id);
  }

  #handlesOf(entry: StoredKey): string[] {
    const children = entry.call.kind === 'spawn' ? [entry.call.handle.id] : entry.call.handleIds;
    return entry.parentId === null ? children : [entry.parentId, ...children];
  }

  /** Keys from the store; a key whose handles did not all come back is dropped. */
  restore(contents: StoreContents, exists: (handleId: string) => boolean): void {
    for (const [id, stored] of (contents.get(IDEMPOTENCY) ?? new Map()) as Map<string, StoredKey>) {
      if (this.#handlesOf(stored).every(exists)) this.#add(stored);
      else this.store?.remove(IDEMPOTENCY, id);
    }
  }

  /** A restored delegation's result, for replays of its key. */
  restoredResult(delegationId: string, result: Promise<DelegationOutcome>): void {
    const id = this.#byDelegation.get(delegationId);
    const entry = id === undefined ? undefined : this.#entries.get(id);
    if (entry) entry.result = result;
  }

  /** The handles are gone: every key naming one of them goes too. */
  forget(handleIds: readonly string[]): void {
    for (const handleId of handleIds) {
      for (const id of this.#byHandle.get(handleId) ?? []) {
        const entry = this.#entries.get(id);
        if (!entry) continue;
        this.#entries.delete(id);
        for (const other of this.#handlesOf(entry)) this.#byHandle.get(other)?.delete(id);
        if (entry.call.kind === 'delegate') this.#byDelegation.delete(entry.call.delegationId);
        this.store?.remove(IDEMPOTENCY, id);
      }
      this.#byHandle.delete(handleId);
    }
  }

  /** How many keys are held. */
  get size(): number {
    return this.#entries.size;
  }
}
