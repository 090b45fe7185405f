import { type Cache, type CacheOptions, createCache, type StoreInput } from '@org/cache-core';
import { type ManualClock, manualClock } from './clock.js';

export interface TestCacheOptions extends Omit<CacheOptions, 'store' | 'clock'> {
  /** Default: a new `Map`, so tests need no Redis. */
  store?: StoreInput;
  /** Default: `manualClock(0)`; pass one to start elsewhere or share it between caches. */
  clock?: ManualClock;
}

export interface TestCache {
  cache: Cache;
  clock: ManualClock;
  store: StoreInput;
}

/**
 * A cache for an application's unit tests: in memory, on a manual clock. Other options go to
 * `createCache` unchanged.
 *
 * @example
 * const { cache, clock } = createTestCache({ prefix: 'bff' });
 * await cache.set('orders:1', order, { ttl: '90s' });
 * clock.advance('91s');
 * expect(await cache.get('orders:1')).toBeUndefined();
 */
export function createTestCache(options: TestCacheOptions = {}): TestCache {
  const { store = new Map<string, unknown>(), clock = manualClock(), ...rest } = options;
  const cache = createCache({ ...rest, store, clock });
  return { cache, clock, store };
}
