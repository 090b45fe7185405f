import { createCache } from '@org/cache-core';
import { chaosStore } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import { mapAdapter } from './support/map-adapter.js';

// The inner store says `inProcess`, which would let core skip its deadlines; through the chaos
// wrapper it must not, or a hung store would hang the caller.
describe('a chaotic store under core', () => {
  it('a hung store does not hang getOrSet: the read times out and the fetcher answers', async () => {
    const store = chaosStore(mapAdapter('full'));
    const cache = createCache({ store, prefix: 'app', operationTimeout: 30 });
    store.chaos.set({ hang: true });
    expect(await cache.getOrSet('k', async () => 'from source')).toBe('from source');
    expect(store.chaos.hangs).toBeGreaterThan(0);
    store.chaos.reset();
    await cache.close();
  });

  it('failures are counted, reads fall back to the fetcher, and the store works again after reset', async () => {
    const store = chaosStore(mapAdapter('full'), { failureRate: 1 });
    const cache = createCache({ store, prefix: 'app', breaker: { failureThreshold: 100 } });
    expect(await cache.getOrSet('k', async () => 'from source')).toBe('from source');
    expect(cache.stats().totals.storeErrors).toBeGreaterThan(0);
    expect(store.chaos.failures).toBeGreaterThan(0);
    store.chaos.reset();
    await cache.set('k', 0);
    expect(await cache.get('k')).toBe(0);
    await cache.close();
  });
});
