/**
 * The Redis store against a real `redis-server` (started here on a free
 * port, no persistence): the store contract, its lock, writes behind and
 * their lag, and the crash suite with the runtime killed by SIGKILL.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadArgumentError, StoreLockedError, redisStore } from '../../src/index.js';
import type { RedisStore } from '../../src/index.js';
import { REDIS_MISSING, redisServerBinary, startRedis } from '../support/redis-server.js';
import type { TestRedis } from '../support/redis-server.js';
import { runCrashSuite } from '../support/crash-suite.js';

const binary = redisServerBinary();
if (!binary) {
  if (process.env.CI) throw new Error(`${REDIS_MISSING}; CI must run it`);
  console.warn(REDIS_MISSING);
}

const plain = (store: RedisStore) => Object.fromEntries([...store.load()].map(([name, records]) => [name, Object.fromEntries(records)]));

describe.skipIf(!binary)('redisStore: a store kept in Redis', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let seq = 0;
  const nextPrefix = () => `store-test-${process.pid}-${(seq += 1)}`;
  beforeAll(async () => {
    redis = await startRedis(binary!);
  }, 20_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps what is put and removed, in order, for the next store on the prefix; reads are copies; closed means closed', async () => {
    const prefix = nextPrefix();
    const store = await redisStore({ connection: redis.url, prefix });
    expect(store.kind).toBe('redis');
    expect(plain(store)).toEqual({});
    store.put('handles', 'a', { n: 1 });
    store.put('handles', 'b', { n: 2 });
    store.put('handles', 'a', { n: 3 });
    store.remove('handles', 'b');
    store.remove('handles', 'never-there');
    store.put('deliveries', 'd1', ['x', { y: null }]);
    expect(plain(store)).toEqual({ handles: { a: { n: 3 } }, deliveries: { d1: ['x', { y: null }] } });
    const copy = store.load();
    (copy.get('handles')!.get('a') as { n: number }).n = 99;
    expect(plain(store).handles).toEqual({ a: { n: 3 } });
    expect(() => store.put('handles', 'f', () => 1)).toThrow(/plain JSON/);
    store.compact();
    store.sync();
    await store.flush();
    // Redis holds exactly the live records.
    const reader = new Redis(redis.url);
    try {
      expect(await reader.hgetall(`${prefix}:store:c:handles`)).toEqual({ a: '{"n":3}' });
    } finally {
      await reader.quit();
    }
    store.close();
    expect(store.closed).toBe(true);
    expect(() => store.put('handles', 'c', 1)).toThrow(/is closed and takes no more records/);
    await store.flush();

    const again = await redisStore({ connection: redis.url, prefix, waitForLockMs: 0 });
    expect(plain(again)).toEqual({ handles: { a: { n: 3 } }, deliveries: { d1: ['x', { y: null }] } });
    again.close();
    await again.flush();
  });

  it('one live store per prefix: another gets StoreLockedError naming the holder; once closed, the lock is free', async () => {
    const prefix = nextPrefix();
    const first = await redisStore({ connection: redis.url, prefix });
    const refused = await redisStore({ connection: redis.url, prefix, waitForLockMs: 300 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreLockedError);
    expect((refused as StoreLockedError).pid).toBe(process.pid);
    expect((refused as Error).message).toMatch(new RegExp(`^Expected the store \`redis 127\\.0\\.0\\.1:${redis.port} prefix ${prefix}\` to be free, got a lock held by the live process ${process.pid}; stop that runtime`));
    // A lock outlives its time to live while its holder lives (it is refreshed).
    const short = await redisStore({ connection: redis.url, prefix: `${prefix}-short`, lockTtlMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 900));
    await expect(redisStore({ connection: redis.url, prefix: `${prefix}-short`, waitForLockMs: 0 })).rejects.toBeInstanceOf(StoreLockedError);
    short.close();
    first.close();
    await Promise.all([first.flush(), short.flush()]);
    const next = await redisStore({ connection: redis.url, prefix, waitForLockMs: 0 });
    next.close();
    await next.flush();
    await expect(redisStore({ connection: 'http://127.0.0.1:1' })).rejects.toBeInstanceOf(BadArgumentError);
    await expect(redisStore({ connection: redis.url, prefix: 'a b' })).rejects.toThrow(/Expected `prefix` to be a key prefix/);
  });

  it('a store whose lock another runtime took writes nothing more, and says so', async () => {
    const prefix = nextPrefix();
    const store = await redisStore({ connection: redis.url, prefix });
    store.put('handles', 'a', 1);
    await store.flush();
    const other = new Redis(redis.url);
    try {
      await other.set(`${prefix}:store:lock`, JSON.stringify({ pid: 1, host: 'elsewhere', id: 'x' }));
      store.put('handles', 'a', 2);
      await expect(store.flush()).rejects.toBeInstanceOf(StoreLockedError);
      expect(await other.hget(`${prefix}:store:c:handles`, 'a')).toBe('1');
      expect(() => store.put('handles', 'b', 3)).toThrow(StoreLockedError);
    } finally {
      store.close();
      await store.flush().catch(() => undefined);
      await other.quit();
    }
  });

  it('Redis restarted without its data: the store writes its whole copy back', async () => {
    const prefix = nextPrefix();
    const store = await redisStore({ connection: redis.url, prefix, lockTtlMs: 1_000 });
    for (let index = 0; index < 50; index += 1) store.put('handles', `h${index}`, { index });
    await store.flush();
    await redis.restart();
    store.put('handles', 'after', { restarted: true });
    await store.flush();
    store.close();
    await store.flush();
    const reopened = await redisStore({ connection: redis.url, prefix, waitForLockMs: 0 });
    expect(reopened.load().get('handles')?.size).toBe(51);
    reopened.close();
    await reopened.flush();
  });

  it('writes behind: the lag until Redis acknowledges a write (p50/p99 measured)', async () => {
    const store = await redisStore({ connection: redis.url, prefix: nextPrefix() });
    const lags: number[] = [];
    for (let index = 0; index < 200; index += 1) {
      const start = performance.now();
      store.put('handles', `h${index % 20}`, { index, text: 'x'.repeat(2_000) });
      await store.flush();
      lags.push(performance.now() - start);
    }
    // A burst: 2000 writes in one tick are few batches.
    const burst = performance.now();
    for (let index = 0; index < 2_000; index += 1) store.put('burst', `b${index}`, { index });
    await store.flush();
    const burstMs = performance.now() - burst;
    lags.sort((a, b) => a - b);
    const p50 = lags[Math.floor(lags.length * 0.5)]!;
    const p99 = lags[Math.floor(lags.length * 0.99)]!;
    console.info(`redisStore write lag (2 KB record, loopback): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; 2000 writes in one tick acknowledged after ${burstMs.toFixed(0)} ms`);
    expect(store.load().get('burst')?.size).toBe(2_000);
    store.close();
    await store.flush();
    // Generous bound for a loaded machine: a write is acknowledged in well under a second.
    expect(p99).toBeLessThan(1_000);
  });

  it('crash suite on a Redis store: SIGKILL at random points, restore in a new process; what Redis acknowledged is kept', async () => {
    let lane = 0;
    await runCrashSuite({
      label: 'redis store',
      killPoints: Number(process.env.REDIS_CRASH_POINTS ?? 9),
      lanes: 3,
      storeFor: (name) => `${redis.url}#crash-${process.pid}-${name}-${(lane += 1)}`,
      readStore: async (at) => {
        const store = await redisStore({ connection: at.split('#')[0]!, prefix: at.split('#')[1]! });
        try {
          return store.load();
        } finally {
          store.close();
          await store.flush();
        }
      },
    });
  }, 120_000);
});
