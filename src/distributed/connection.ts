/**
 * The Redis connection both sides take, and the optional packages loaded
 * only when they are used: the library works without `bullmq` and `ioredis`.
 */
import { BadArgumentError, RedisPackagesMissingError } from '../errors.js';
import type * as Bullmq from 'bullmq';
import type { Redis as RedisClient, RedisOptions as IoRedisOptions } from 'ioredis';

export type { RedisConnection } from './protocol.js';

/** The connection as options, checked. */
export function connectionOptions(field: string, connection: unknown): { url?: string; [option: string]: unknown } {
  if (typeof connection === 'string') {
    if (!/^rediss?:\/\//.test(connection)) throw new BadArgumentError(field, 'a redis:// URL or ioredis options { host, port, … }', connection);
    return { url: connection };
  }
  if (typeof connection !== 'object' || connection === null || Array.isArray(connection)) {
    throw new BadArgumentError(field, 'a redis:// URL or ioredis options { host, port, … }', connection);
  }
  return { ...(connection as Record<string, unknown>) };
}

export interface RedisPackages {
  bullmq: typeof Bullmq;
  /** A new ioredis client on the connection (commands wait while it reconnects). */
  connect(this: void, options: { url?: string; [option: string]: unknown }, name: string): RedisClient;
}

let loaded: Promise<RedisPackages> | null = null;

/** Loads `bullmq` and `ioredis` once; rejects with {@link RedisPackagesMissingError} when either is missing. */
export function loadRedisPackages(): Promise<RedisPackages> {
  loaded ??= (async () => {
    try {
      const [bullmq, ioredis] = await Promise.all([import('bullmq'), import('ioredis')]);
      const Redis = ioredis.Redis;
      return {
        bullmq,
        connect: ({ url, ...rest }, name) => {
          const options = { ...(rest as IoRedisOptions), maxRetriesPerRequest: null, connectionName: name };
          return url ? new Redis(url, options) : new Redis(options);
        },
      };
    } catch (error) {
      loaded = null;
      throw new RedisPackagesMissingError({ cause: error });
    }
  })();
  return loaded;
}

/** BullMQ's connection option for the same Redis (it makes its own clients). */
export function bullmqConnection(options: { url?: string; [option: string]: unknown }): Bullmq.ConnectionOptions {
  return { ...options, maxRetriesPerRequest: null };
}
