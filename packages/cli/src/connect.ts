import { type Cache, type CacheStore, createCache } from '@org/cache-core';
import { withDeadline } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import {
  type RedisBus,
  type RedisConnectionOptions,
  type RedisStore,
  redisBus,
  redisStore,
} from '@org/cache-redis';
import { type TieredStore, tieredStore } from '@org/cache-tiered';
import { CliError, EXIT, usageError } from './errors.js';
import { describeTarget, type Target } from './target.js';

export function connectionOptions(target: Target): RedisConnectionOptions {
  const common = {
    connectTimeout: target.connectTimeoutMs,
    // The store replaces a connection whose replies stop for `stallTimeout` (half-open links). A
    // CLI on a busy host can go that long between two event-loop turns while thousands of its own
    // commands are in flight: only call it stalled well past the operation deadline.
    stallTimeout: Math.max(10_000, 2 * target.operationTimeoutMs),
  };
  // The target was refused without a URL (usage error), so there is always a first one.
  const first = target.urls[0] as string;
  if (!target.cluster) return { url: first, ...common };
  // Cluster nodes learned from the seeds need the seeds' credentials and TLS too.
  const seed = new URL(first);
  return {
    cluster: { rootNodes: target.urls.map((url) => ({ url })) },
    ...common,
    ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
    ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
    ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A connected Redis store, or E_UNREACHABLE (exit 4) within the connect timeout: never a hang. */
export async function openStore(target: Target): Promise<RedisStore> {
  let store: RedisStore;
  try {
    store = redisStore(connectionOptions(target));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  try {
    await withDeadline(
      store.connection.command(['PING']),
      target.connectTimeoutMs,
      () => new Error(`no answer after ${target.connectTimeoutMs} ms`),
    );
  } catch (error) {
    // The connection's own error (ECONNREFUSED, ENOTFOUND, NOAUTH) says more than "client offline".
    const cause = store.connection.lastError ?? error;
    await store.disconnect().catch(() => {});
    throw unreachable(target, cause);
  }
  return store;
}

function unreachable(target: Target, cause: unknown): CliError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CliError(
    'E_UNREACHABLE',
    `cannot reach ${describeTarget(target)} within ${target.connectTimeoutMs} ms: ${reason || 'connection failed'}`,
    EXIT.unreachable,
    { cause, hint: 'check --url / REDIS_URL (and --cluster), that Redis runs, and the network' },
  );
}

export interface CacheSession {
  cache: Cache;
  /** The Redis store itself, for read-only inspection (TTLs, raw envelopes, internal keys). */
  redis: RedisStore;
  /** Waits until every bus message is published; throws if some could not be. */
  flushBus(): Promise<void>;
  close(): Promise<void>;
}

const BUS_FLUSH_MS = 5_000;

/**
 * The SDK on the target Redis. With a bus channel, the store is the tiered store the application
 * runs (`tieredStore({ l1, l2: redisStore, bus: redisBus })`), so every invalidation also tells the
 * application's instances to drop their in-process copies, exactly as one of them would.
 */
export async function openCache(target: Target, busChannel?: string): Promise<CacheSession> {
  const redis = await openStore(target);
  let bus: RedisBus | undefined;
  let store: CacheStore = redis;
  let tiered: TieredStore | undefined;
  if (busChannel !== undefined) {
    try {
      bus = redisBus({ ...connectionOptions(target), channel: busChannel });
      // The L1 is required by the tiered store but useless to a short-lived CLI: keep it tiny.
      tiered = tieredStore({ l1: memoryStore({ maxEntries: 1_000 }), l2: redis, bus });
      store = tiered;
    } catch (error) {
      await Promise.all([bus?.close(), redis.disconnect()]);
      throw usageError(`--bus-channel: ${(error as Error).message}`);
    }
  }
  const cache = createCache({ store, prefix: target.prefix, operationTimeout: target.operationTimeoutMs });
  return {
    cache,
    redis,
    async flushBus() {
      const stats = tiered?.stats.bus;
      if (stats === undefined) return;
      const deadline = Date.now() + BUS_FLUSH_MS;
      while (stats.queued > 0 && Date.now() < deadline) await sleep(20);
      if (stats.queued > 0 || stats.dropped > 0) {
        throw new CliError(
          'E_BUS_NOT_NOTIFIED',
          `the invalidation is done in Redis, but ${stats.queued + stats.dropped} message(s) could not be published on ${busChannel}: instances keep their in-process copies until their l1Ttl passes`,
          EXIT.failure,
        );
      }
    },
    close: () => cache.close(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
