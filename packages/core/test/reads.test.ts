import { type CacheStore, createCache } from '@org/cache-core';
import { storeCapabilities, syncUnknown } from '@org/cache-core/adapter';
import { describe, expect, it } from 'vitest';

/**
 * A two-tier-like store: its synchronous read never knows (an L1 miss), so every read also goes
 * to its asynchronous `get`. Counts both.
 */
function l1MissStore() {
  const map = new Map<string, unknown>();
  const counts = { getSync: 0, get: 0 };
  const store = {
    opts: {},
    on: () => store,
    get: async (key: string) => {
      counts.get++;
      return map.get(key);
    },
    set: async (key: string, value: unknown) => {
      map.set(key, value);
      return true;
    },
    delete: async (key: string) => map.delete(key),
    clear: async () => map.clear(),
    [storeCapabilities]: {
      name: 'l1-miss',
      structuredValues: true,
      getSync: () => {
        counts.getSync++;
        return syncUnknown;
      },
    },
  };
  return { store: store as unknown as CacheStore, counts };
}

describe('a read the synchronous path cannot answer', () => {
  it('asks the synchronous path once, then the store once (get)', async () => {
    const { store, counts } = l1MissStore();
    const cache = createCache({ store, prefix: 'r' });
    await cache.set('k', { page: 1 });
    expect(await cache.get('k')).toEqual({ page: 1 });
    expect(counts).toEqual({ getSync: 1, get: 1 });
    await cache.close();
  });

  it('asks the synchronous path once, then the store once (getOrSet)', async () => {
    const { store, counts } = l1MissStore();
    const cache = createCache({ store, prefix: 'r' });
    await cache.set('k', { page: 1 });
    expect(await cache.getOrSet('k', () => ({ page: 2 }))).toEqual({ page: 1 });
    expect(counts).toEqual({ getSync: 1, get: 1 });
    await cache.close();
  });
});
