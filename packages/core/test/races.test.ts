import { type Cache, createCache } from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, flush, structuredStore } from './support/stores.js';

/**
 * DESIGN.md "No stale writes": an invalidation during a fetch wins. The callers already waiting
 * get the fetched value, nobody asking afterwards does, and a call after the invalidation never
 * joins the older fetch.
 */
const stores = {
  map: () => new Map<string, unknown>(),
  structured: () => structuredStore(),
};

type Invalidation = (cache: Cache) => Promise<unknown>;

const invalidations: Record<
  string,
  { tags?: string[] | ((value: string) => string[]); invalidate: Invalidation }
> = {
  'delete(key)': { invalidate: (cache) => cache.delete('orders:detail:801') },
  'deleteMany([key])': { invalidate: (cache) => cache.deleteMany(['orders:detail:801']) },
  'invalidateTags (static tags)': {
    tags: ['account:001'],
    invalidate: (cache) => cache.invalidateTags(['account:001']),
  },
  'invalidateTags (derived tags)': {
    tags: (value) => [`account:${value.split('@')[1]}`],
    invalidate: (cache) => cache.invalidateTags(['account:001']),
  },
  deleteByPattern: { invalidate: (cache) => cache.deleteByPattern('orders:detail:*') },
  'set(key) with a newer value': { invalidate: (cache) => cache.set('orders:detail:801', 'newer@001') },
};

describe.each(Object.entries(stores))('no stale writes on a %s store', (_, makeStore) => {
  let cache: Cache;
  afterEach(async () => {
    await cache?.close();
  });

  for (const [name, { tags, invalidate }] of Object.entries(invalidations)) {
    it(`${name} during a fetch wins over the fetch`, async () => {
      cache = createCache({ store: makeStore(), prefix: 'race' });
      const slow = deferred<string>();
      const fetches: string[] = [];
      const options = tags === undefined ? {} : { tags };
      const before = cache.getOrSet(
        'orders:detail:801',
        () => {
          fetches.push('old');
          return slow.promise;
        },
        options,
      );
      const joinedBefore = cache.getOrSet('orders:detail:801', () => 'never called', options);
      await flush();

      await invalidate(cache);
      // A call after the invalidation must not join the older fetch.
      const after = cache.getOrSet(
        'orders:detail:801',
        () => {
          fetches.push('new');
          return 'fresh@001';
        },
        options,
      );
      slow.resolve('stale@001');

      expect(await before).toBe('stale@001');
      expect(await joinedBefore).toBe('stale@001');
      const afterValue = await after;
      expect(afterValue === 'fresh@001' || afterValue === 'newer@001').toBe(true);
      expect(fetches[0]).toBe('old');
      await flush();
      // Nobody asking after the invalidation sees the stale value.
      const now = await cache.get('orders:detail:801');
      expect(now).not.toBe('stale@001');
    });
  }

  it('stores a value fetched after the invalidation normally', async () => {
    cache = createCache({ store: makeStore(), prefix: 'race' });
    await cache.delete('k');
    await cache.getOrSet('k', () => 'fetched later', { tags: ['t'] });
    expect(await cache.get('k')).toBe('fetched later');
  });

  it('invalidating an unrelated key or tag does not stop the write', async () => {
    cache = createCache({ store: makeStore(), prefix: 'race' });
    const slow = deferred<string>();
    const running = cache.getOrSet('k', () => slow.promise, { tags: ['mine'] });
    await flush();
    await cache.delete('other');
    await cache.invalidateTags(['not-mine']);
    slow.resolve('value');
    await running;
    expect(await cache.get('k')).toBe('value');
  });
});

describe('tag invalidation from another instance during a fetch', () => {
  it('makes the in-flight result unreadable for every instance sharing the store', async () => {
    // Two caches on one store stand for two processes: they share nothing but the store.
    const shared = new Map<string, unknown>();
    const processA = createCache({ store: shared, prefix: 'bff' });
    const processB = createCache({ store: shared, prefix: 'bff' });
    const slow = deferred<string>();
    const running = processA.getOrSet('catalog:product:1', () => slow.promise, { tags: ['product:A'] });
    await flush();
    await processB.invalidateTags(['product:A']);
    slow.resolve('price before the change');
    expect(await running).toBe('price before the change');
    expect(await processA.get('catalog:product:1')).toBeUndefined();
    expect(await processB.get('catalog:product:1')).toBeUndefined();
    await processA.close();
    await processB.close();
  });
});
