/**
 * A store kept in Redis, so that a runtime restarted on another process (or
 * machine) restores from the Redis its workers use. The `Store` interface is
 * synchronous: the store is loaded once into memory, reads are served from
 * there, and writes go behind to Redis, in order, in batches applied
 * atomically under the store's lock.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis as RedisClient } from 'ioredis';
import { BadArgumentError, StoreLockedError } from '../errors.js';
import { rejectUnknownKeys } from '../runtime/validate.js';
import type { Store, StoreContents } from '../store/store-types.js';
import { connectionOptions, loadRedisPackages } from './connection.js';
import type { RedisConnection } from './protocol.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** The Redis to keep the store in: a URL (`redis://127.0.0.1:6380`) or ioredis options. */
  connection: RedisConnection;
  /** The prefix of the store's keys: one runtime per prefix. @default 'subagents' */
  prefix?: string;
  /**
   * How long the store's lock outlives its holder: refreshed every third of
   * it while the holder lives, it expires this long after the holder died.
   * @default 10000
   */
  lockTtlMs?: number;
  /**
   * How long to wait for a lock held by another runtime (a dead one's expires
   * after `lockTtlMs`) before `StoreLockedError`. @default lockTtlMs + 1000
   */
  waitForLockMs?: number;
}

/** A store kept in Redis: writes go behind; `flush()` awaits them. */
export interface RedisStore extends Store {
  readonly kind: 'redis';
  /** Resolves once every write made so far is acknowledged by Redis; rejects if the store lost its lock to another runtime. */
  flush(): Promise<void>;
}

const OPTION_KEYS: readonly string[] = ['connection', 'prefix', 'lockTtlMs', 'waitForLockMs'];
/** The most records one batch (one script call) carries. */
const BATCH_RECORDS = 512;

/**
 * One batch, atomically: nothing unless the lock is this store's (or free, then
 * taken again: 2), the lock's expiry pushed back, then the records in order.
 * ARGV: owner, ttl, key base, then (op, collection, key, value) per record.
 */
const WRITE_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
local result = 1
if owner == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  result = 2
elseif owner ~= ARGV[1] then
  return 0
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local base = ARGV[3]
for i = 4, #ARGV, 4 do
  local hash = base .. ':c:' .. ARGV[i + 1]
  if ARGV[i] == 'p' then
    redis.call('HSET', hash, ARGV[i + 2], ARGV[i + 3])
    redis.call('SADD', base .. ':collections', ARGV[i + 1])
  else
    redis.call('HDEL', hash, ARGV[i + 2])
  end
end
return result`;

/** Releases the lock if it is still this store's. */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface ScriptedClient extends RedisClient {
  storeWrite(lock: string, owner: string, ttl: number, base: string, ...records: string[]): Promise<number>;
  storeRelease(lock: string, owner: string): Promise<number>;
}

interface Holder {
  pid: number;
  host: string;
  id: string;
}

function checkOptions(options: RedisStoreOptions) {
  if (typeof options !== 'object' || options === null) throw new BadArgumentError('options', 'an object with `connection`', options);
  rejectUnknownKeys(options, OPTION_KEYS);
  const connection = connectionOptions('connection', options.connection);
  const prefix = options.prefix ?? 'subagents';
  if (typeof prefix !== 'string' || !/^[\w.:-]{1,100}$/.test(prefix)) throw new BadArgumentError('prefix', 'a key prefix of letters, digits, `_`, `-`, `.` or `:`', prefix);
  const lockTtlMs = options.lockTtlMs ?? 10_000;
  if (typeof lockTtlMs !== 'number' || !Number.isInteger(lockTtlMs) || lockTtlMs < 100) throw new BadArgumentError('lockTtlMs', 'an integer >= 100 (milliseconds)', lockTtlMs);
  const waitForLockMs = options.waitForLockMs ?? lockTtlMs + 1_000;
  if (typeof waitForLockMs !== 'number' || !Number.isInteger(waitForLockMs) || waitForLockMs < 0) throw new BadArgumentError('waitForLockMs', 'an integer >= 0 (milliseconds)', waitForLockMs);
  return { connection, prefix, lockTtlMs, waitForLockMs };
}

/** Where the store is, for messages: the Redis without its credentials, and the prefix. */
function describeWhere(connection: { url?: string; [option: string]: unknown }, prefix: string): string {
  const host = typeof connection.host === 'string' ? connection.host : '127.0.0.1';
  const port = typeof connection.port === 'number' ? connection.port : 6379;
  let at = `${host}:${port}`;
  if (connection.url) {
    try {
      at = new URL(connection.url).host;
    } catch {
      at = '(a Redis URL)';
    }
  }
  return `redis ${at} prefix ${prefix}`;
}

function readHolder(text: string | null): Holder | null {
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as Partial<Holder>;
    return { pid: typeof parsed.pid === 'number' ? parsed.pid : 0, host: String(parsed.host ?? '?'), id: String(parsed.id ?? '') };
  } catch {
    return { pid: 0, host: '?', id: '' };
  }
}

/**
 * Opens a store kept in Redis: takes its lock (one live runtime per prefix;
 * another gets `StoreLockedError`), loads everything it holds into memory,
 * and from then on serves reads from memory and writes behind to Redis.
 *
 * What it survives: the death of the runtime's process loses at most the
 * writes Redis had not acknowledged yet (`flush()` awaits them); Redis's own
 * durability (AOF, RDB snapshots) is its operator's choice. Not for Redis
 * Cluster (a batch touches keys the script computes).
 *
 * @example
 * ```ts
 * const store = await redisStore({ connection: 'redis://127.0.0.1:6380', prefix: 'my-app' });
 * const runtime = createRuntime({ client, model, store, executor: bullmqExecutor({ connection: 'redis://127.0.0.1:6380' }) });
 * ```
 */
export async function redisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const { connection, prefix, lockTtlMs, waitForLockMs } = checkOptions(options);
  const { connect } = await loadRedisPackages();
  const where = describeWhere(connection, prefix);
  const base = `${prefix}:store`;
  const lockKey = `${base}:lock`;
  const owner = JSON.stringify({ pid: process.pid, host: hostname(), id: randomUUID() } satisfies Holder);
  const client = connect(connection, `subagents:store:${prefix}`) as ScriptedClient;
  client.on('error', () => {});
  client.defineCommand('storeWrite', { numberOfKeys: 1, lua: WRITE_SCRIPT });
  client.defineCommand('storeRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });

  try {
    const deadline = performance.now() + waitForLockMs;
    while ((await client.set(lockKey, owner, 'PX', lockTtlMs, 'NX')) !== 'OK') {
      if (performance.now() >= deadline) {
        const holder = readHolder(await client.get(lockKey));
        throw new StoreLockedError(where, holder?.pid ?? 0, `stop that runtime${holder ? ` (on ${holder.host})` : ''}, wait for its lock to expire (lockTtlMs after it died), or use another prefix`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, waitForLockMs)));
    }
  } catch (error) {
    client.disconnect();
    throw error;
  }

  // What Redis holds, as JSON text per record (a read hands out copies).
  const collections = new Map<string, Map<string, string>>();
  try {
    for (const name of await client.smembers(`${base}:collections`)) {
      const records = await client.hgetall(`${base}:c:${name}`);
      collections.set(name, new Map(Object.entries(records)));
    }
  } catch (error) {
    await client.storeRelease(lockKey, owner).catch(() => undefined);
    client.disconnect();
    throw error;
  }
  return openRedisStore({ client, collections, lockKey, owner, base, lockTtlMs, where });
}

function openRedisStore(state: { client: ScriptedClient; collections: Map<string, Map<string, string>>; lockKey: string; owner: string; base: string; lockTtlMs: number; where: string }): RedisStore {
  const { client, collections, lockKey, owner, base, lockTtlMs, where } = state;
  /** Records not sent yet: (op, collection, key, value) each. */
  let pending: string[] = [];
  let scheduled: NodeJS.Immediate | null = null;
  /** Resolves once everything sent so far is acknowledged (never rejects). */
  let last: Promise<void> = Promise.resolve();
  let closed = false;
  /** Set when another runtime holds the lock: no write goes out any more. */
  let lost: StoreLockedError | null = null;

  const fenced = (result: number) => {
    if (result === 0 && !lost) lost = new StoreLockedError(where, 0, 'another runtime took the lock of this store (this one was paused past lockTtlMs?): this runtime writes nothing more');
    // The lock was gone (it expired, or Redis restarted without its data) and is this store's again: Redis gets the whole copy back.
    if (result === 2) rewriteAll();
  };

  function send(records: string[]): void {
    last = last.then(async () => {
      if (lost) return;
      for (;;) {
        try {
          fenced(await client.storeWrite(lockKey, owner, lockTtlMs, base, ...records));
          return;
        } catch {
          // Redis refused (a script error while it loads, a connection reset): the same batch again, in order.
          if (closed && client.status === 'end') return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
  }

  function sendPending(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = null;
    while (pending.length > 0) send(pending.splice(0, BATCH_RECORDS * 4));
  }

  function rewriteAll(): void {
    const records: string[] = [];
    for (const [name, entries] of collections) for (const [key, text] of entries) records.push('p', name, key, text);
    pending = [...records, ...pending];
    sendPending();
  }

  function write(...record: string[]): void {
    if (closed) throw new Error(`subagents: the store \`${where}\` is closed and takes no more records`);
    if (lost) throw lost;
    pending.push(...record);
    scheduled ??= setImmediate(sendPending);
  }

  // The lock lives while this runtime does: refreshed (an empty batch) every third of its time to live.
  const refresh = setInterval(() => {
    if (pending.length === 0) send([]);
  }, Math.max(30, Math.floor(lockTtlMs / 3)));
  refresh.unref();

  let finished: Promise<void> | null = null;
  return {
    kind: 'redis',
    get closed() {
      return closed;
    },
    load() {
      const contents: StoreContents = new Map();
      for (const [name, records] of collections) contents.set(name, new Map([...records].map(([key, text]) => [key, JSON.parse(text) as unknown])));
      return contents;
    },
    put(collection, key, value) {
      const text = JSON.stringify(value);
      if (text === undefined) throw new Error(`subagents: a store value must be plain JSON, got ${typeof value} for ${collection}/${key}`);
      write('p', collection, key, text);
      let records = collections.get(collection);
      if (!records) collections.set(collection, (records = new Map<string, string>()));
      records.set(key, text);
    },
    remove(collection, key) {
      write('r', collection, key, '');
      collections.get(collection)?.delete(key);
    },
    /** Sends what is pending now; `flush()` awaits Redis's acknowledgement. */
    sync() {
      if (!closed) sendPending();
    },
    /** Nothing to do: Redis holds the live records only. */
    compact() {},
    close() {
      if (closed) return;
      sendPending();
      closed = true;
      clearInterval(refresh);
      finished = last.then(async () => {
        if (!lost) await client.storeRelease(lockKey, owner).catch(() => undefined);
        await client.quit().catch(() => client.disconnect());
      });
    },
    async flush() {
      if (!closed) sendPending();
      await (finished ?? last);
      if (lost) throw lost;
    },
  };
}
