import {
  type Cache,
  type CacheOptions,
  type CacheStore,
  createCache,
  type StoreInput,
} from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { type ManualClock, manualClock } from '../clock.js';
import type { DefineTest } from './runner.js';

/** A fixed, realistic instant: envelopes then carry plausible timestamps. */
export const CONTRACT_START = Date.UTC(2025, 0, 1);

export interface CacheFixture {
  cache: Cache;
  clock: ManualClock;
  store: StoreInput;
}

export type OpenCache = (options?: Partial<CacheOptions>) => Promise<CacheFixture>;

export type CacheTestBody = (open: OpenCache, test: { readonly id: string }) => Promise<void>;

/**
 * Each test gets `open()`: a cache with a manual clock and a prefix unique to the test, on a fresh
 * store from the subject (or on `options.store`, to put two caches on one store). Caches are
 * closed after the test, before the store is cleaned up.
 */
export function defineCacheTest<Store extends StoreInput>(
  test: DefineTest<Store>,
  defaults: Partial<CacheOptions> = {},
) {
  return (name: string, body: CacheTestBody) =>
    test(name, async (scope) => {
      const open: OpenCache = async (options = {}) => {
        const store = options.store ?? (await scope.store());
        const clock = (options.clock as ManualClock | undefined) ?? manualClock(CONTRACT_START);
        const cache = createCache({ prefix: scope.id, ...defaults, ...options, store, clock });
        scope.defer(() => cache.close());
        return { cache, clock, store };
      };
      await body(open, scope);
    });
}

/**
 * Whether core can list this store's keys for pattern operations: a Map, a Keyv over a Map, or an
 * adapter with a native scan or a keyv `iterator`. Other stores must refuse with E_UNSUPPORTED.
 */
export function canList(input: StoreInput): boolean {
  const target = isKeyvInstance(input) ? input.store : input;
  if (target instanceof Map) return true;
  if (typeof target !== 'object' || target === null) return false;
  const adapter = target as CacheStore;
  return typeof adapter[storeCapabilities]?.scan === 'function' || typeof adapter.iterator === 'function';
}

function isKeyvInstance(input: object): input is { store: unknown } {
  // Duck-typed like core: `instanceof Keyv` fails across two installed copies of keyv.
  return 'hooks' in input && 'serialize' in input && typeof (input as { store?: unknown }).store === 'object';
}
