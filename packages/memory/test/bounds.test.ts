import { storeCapabilities } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('memoryStore LRU bound', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is bounded to 10,000 entries by default', async () => {
    const store = memoryStore();
    await store.setMany(Array.from({ length: 10_050 }, (_, index) => ({ key: `k${index}`, value: index })));
    expect(store.size()).toBe(10_000);
    expect(store.stats()).toEqual({ entries: 10_000, maxEntries: 10_000, evictions: 50 });
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k49')).toBeUndefined();
    expect(await store.get('k50')).toBe(50);
    expect(await store.get('k10049')).toBe(10_049);
  });

  it('evicts the least recently used entry, so a recently read one survives', async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.set('a', 1);
    await store.set('b', 2);
    await store.set('c', 3);
    expect(await store.get('a')).toBe(1);
    await store.set('d', 4);
    expect(await store.getMany(['a', 'b', 'c', 'd'])).toEqual([1, undefined, 3, 4]);
    expect(store.stats().evictions).toBe(1);
  });

  it('a synchronous read also refreshes the LRU position', async () => {
    const store = memoryStore({ maxEntries: 2 });
    const { getSync } = store[storeCapabilities];
    await store.set('a', 1);
    await store.set('b', 2);
    expect(getSync?.('a')).toBe(1);
    await store.set('c', 3);
    expect(await store.getMany(['a', 'b', 'c'])).toEqual([1, undefined, 3]);
  });

  it('overwriting a key neither grows the store nor counts as an eviction', async () => {
    const store = memoryStore({ maxEntries: 2 });
    await store.set('a', 1);
    await store.set('b', 2);
    await store.set('a', 10);
    await store.set('b', 20);
    expect(store.stats()).toEqual({ entries: 2, maxEntries: 2, evictions: 0 });
    expect(await store.getMany(['a', 'b'])).toEqual([10, 20]);
  });

  it('deleted entries free their slot', async () => {
    const store = memoryStore({ maxEntries: 2 });
    await store.set('a', 1);
    await store.set('b', 2);
    await store.delete('a');
    await store.set('c', 3);
    expect(await store.getMany(['b', 'c'])).toEqual([2, 3]);
    expect(store.stats().evictions).toBe(0);
  });

  it.each([Number.POSITIVE_INFINITY, 0])(
    'maxEntries %s opts in to an unbounded store',
    async (maxEntries) => {
      const store = memoryStore({ maxEntries });
      await store.setMany(Array.from({ length: 20_001 }, (_, index) => ({ key: `k${index}`, value: index })));
      expect(store.size()).toBe(20_001);
      expect(await store.get('k0')).toBe(0);
      expect(store.stats()).toEqual({ entries: 20_001, maxEntries: undefined, evictions: 0 });
    },
  );

  it('an unbounded store reports the engine limit on Map size as E_STORE_ERROR', async () => {
    const store = memoryStore({ maxEntries: Number.POSITIVE_INFINITY });
    await store.set('kept', 1);
    // Filling 2^24 entries would take gigabytes; simulate the RangeError V8 throws at that size.
    const set = Map.prototype.set;
    vi.spyOn(Map.prototype, 'set').mockImplementation(function (this: Map<unknown, unknown>, key, value) {
      if (key === 'overflow') throw new RangeError('Map maximum size exceeded');
      return set.call(this, key, value);
    });
    await expect(store.set('overflow', 2)).rejects.toMatchObject({
      code: 'E_STORE_ERROR',
      key: 'overflow',
      cause: expect.any(RangeError),
    });
    expect(await store.get('kept')).toBe(1);
  });
});
