import { type FactoryProvider, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { type Cache, CacheError, createCache, type Duration, parseDuration } from '@org/cache-core';
import { watchCache } from './logging/cache-watch.js';
import type { CacheFactoryResult, CacheLoggingOptions } from './module-options.js';
import { cacheOwnerToken, getCacheToken } from './tokens.js';

const DEFAULT_LOG_INTERVAL: Duration = '10s';

interface CacheRecord {
  /** The module created this cache, so it closes it. */
  owned: boolean;
  logger: CacheLoggingOptions['logger'];
  logIntervalMs: number;
}

// What each cache provider produced, read by its owner at shutdown. A cache put in place with
// `overrideProvider(...).useValue(cache)` is not here: the module neither created nor closes it.
const records = new WeakMap<Cache, CacheRecord>();

/** The cache provider (from options, or the user's own Cache) and the provider that owns its lifecycle. */
export function cacheProviders(
  name: string,
  // biome-ignore lint/suspicious/noExplicitAny: as Nest's FactoryProvider: the arguments are what `inject` lists.
  factory: (...args: any[]) => CacheFactoryResult | Promise<CacheFactoryResult>,
  inject: NonNullable<FactoryProvider['inject']>,
): Provider[] {
  return [
    {
      provide: getCacheToken(name),
      useFactory: async (...args: unknown[]) => createOrAdopt(name, await factory(...args)),
      inject,
    },
    {
      provide: cacheOwnerToken(name),
      useFactory: (cache: Cache) => new CacheOwner(name, cache),
      inject: [getCacheToken(name)],
    },
  ];
}

function createOrAdopt(name: string, result: CacheFactoryResult): Cache {
  if (isCache(result)) {
    records.set(result, { owned: false, logger: undefined, logIntervalMs: defaultLogIntervalMs() });
    return result;
  }
  if (typeof result !== 'object' || result === null)
    throw new CacheError(
      'E_INVALID_OPTION',
      `cache ${name}: the factory must return cache options or a Cache`,
    );
  const { logger, logInterval, ...options } = result;
  const logIntervalMs = parseDuration(logInterval ?? DEFAULT_LOG_INTERVAL, 'logInterval');
  const cache = createCache(options);
  records.set(cache, { owned: true, logger, logIntervalMs });
  return cache;
}

function defaultLogIntervalMs(): number {
  return parseDuration(DEFAULT_LOG_INTERVAL);
}

function isCache(value: unknown): value is Cache {
  const candidate = value as Partial<Cache> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    !('store' in candidate) &&
    typeof candidate.getOrSet === 'function' &&
    typeof candidate.close === 'function'
  );
}

/**
 * Reports the cache's store problems while the application runs and, on shutdown, closes the
 * cache if the module created it (its store is then disconnected as `cache.close()` decides: a
 * `redisStore({ url })` is, a `redisStore({ client })` client is left to its owner).
 */
export class CacheOwner implements OnApplicationShutdown {
  readonly #cache: Cache;
  readonly #owned: boolean;
  readonly #stopWatching: () => void;

  constructor(name: string, cache: Cache) {
    const record = records.get(cache);
    this.#cache = cache;
    this.#owned = record?.owned ?? false;
    const logger = record?.logger;
    this.#stopWatching =
      logger === false
        ? () => {}
        : watchCache(
            cache,
            logger ?? new Logger(`Cache:${name}`),
            record?.logIntervalMs ?? defaultLogIntervalMs(),
          );
  }

  async onApplicationShutdown(): Promise<void> {
    this.#stopWatching();
    if (this.#owned) await this.#cache.close();
  }
}
