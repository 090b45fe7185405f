import { isCacheError, ttl } from '@org/cache-core';
import { createTestCache, manualClock } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';

describe('createTestCache', () => {
  it('gives a cache on a fresh Map with a manual clock: expiry without waiting', async () => {
    const { cache, clock, store } = createTestCache();
    expect(store).toBeInstanceOf(Map);
    expect(clock.now()).toBe(0);
    await cache.set('orders:1', { total: 0 }, { ttl: '90s' });
    expect(await cache.get('orders:1')).toEqual({ total: 0 });
    expect((store as Map<string, unknown>).size).toBeGreaterThan(0);
    clock.advance('91s');
    expect(await cache.get('orders:1')).toBeUndefined();
  });

  it('each call is isolated from the others', async () => {
    const first = createTestCache();
    const second = createTestCache();
    await first.cache.set('k', 1);
    expect(await second.cache.get('k')).toBeUndefined();
  });

  it('passes other options to createCache', async () => {
    const { cache, clock } = createTestCache({ prefix: 'bff', strategy: ttl('1m') });
    expect(cache.prefix).toBe('bff');
    await cache.set('k', 1);
    clock.advance('61s');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('uses the store and clock given', async () => {
    const store = new Map<string, unknown>();
    const clock = manualClock(1_000);
    const { cache } = createTestCache({ store, clock, prefix: 'app' });
    await cache.set('k', 'v');
    expect([...store.keys()]).toEqual(['app:k']);
    expect(createTestCache({ store, clock }).clock).toBe(clock);
  });

  it('refuses bad options as createCache does', () => {
    let error: unknown;
    try {
      createTestCache({ operationTimeout: -5 });
    } catch (caught) {
      error = caught;
    }
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
