import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Cache,
  type CacheEvent,
  type CacheOptions,
  cacheChannels,
  createCache,
  ttl,
} from '@org/cache-core';
import { type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { manualClock } from './support/helpers.js';
import { deferred, faultyStore, flush, leasingStore } from './support/stores.js';

/**
 * `eagerRefresh`: a hit past the fraction of the entry's fresh window answers from the cache and
 * starts one background refresh: one per process, and one across processes on a store with
 * leases. Time is the manual clock; the upstream is a deferred the test settles.
 */
const caches: Cache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

function open(store: CacheOptions['store'], clock = manualClock(), options: Partial<CacheOptions> = {}) {
  const cache = createCache({ store, prefix: 'eager', clock, strategy: ttl('10s'), ...options });
  caches.push(cache);
  return { cache, clock };
}

/** An upstream whose answers the test releases one call at a time. */
function upstream() {
  const calls: Array<ReturnType<typeof deferred<string>>> = [];
  return {
    calls,
    fetcher: () => {
      const call = deferred<string>();
      calls.push(call);
      return call.promise;
    },
  };
}

describe.each([
  ['a synchronous store (Map)', () => new Map<string, unknown>()],
  ['an asynchronous store', () => faultyStore()],
])('eagerRefresh on %s', (_, makeStore) => {
  it('a hit past the point answers from the cache and starts one refresh for all concurrent hits', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'v1');
    clock.advance(8_500); // past 80% of 10 s, still fresh
    const source = upstream();
    const values = await Promise.all(
      Array.from({ length: 50 }, () => cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })),
    );
    // Every caller was answered while the refresh is still waiting on the upstream.
    expect(values).toEqual(Array(50).fill('v1'));
    expect(source.calls).toHaveLength(1);
    expect(cache.stats().buckets.default).toMatchObject({ hits: 50, misses: 0, refreshes: 0 });

    source.calls[0]?.resolve('v2');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v2'));
    await vi.waitFor(() => expect(cache.stats().buckets.default?.refreshes).toBe(1));
    // The new entry starts a new window: no refresh before its own point.
    clock.advance(1_000);
    expect(await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })).toBe('v2');
    await flush();
    expect(source.calls).toHaveLength(1);
    expect(cache.stats().buckets.default).toMatchObject({ refreshes: 1, refreshErrors: 0, fetches: 1 });
  });

  it('before the point, a hit is only a hit', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'v1');
    clock.advance(7_900);
    const source = upstream();
    expect(await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    await flush();
    expect(source.calls).toHaveLength(0);
  });

  it('a failed refresh keeps the entry, is counted, and holds off the next try for a moment', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'v1');
    clock.advance(8_500);
    const source = upstream();
    expect(await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    // The refresh's fetcher starts after the hit has answered (a tag snapshot may come first).
    await vi.waitFor(() => expect(source.calls).toHaveLength(1));
    source.calls[0]?.reject(new Error('upstream down'));
    await vi.waitFor(() => expect(cache.stats().buckets.default?.refreshErrors).toBe(1));
    expect(cache.stats().buckets.default).toMatchObject({ refreshes: 1, fetchErrors: 1 });
    expect(await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    await flush();
    expect(source.calls).toHaveLength(1); // held off
    clock.advance(1_000); // still fresh (9.5 s of 10 s), past the hold-off
    expect(await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    await vi.waitFor(() => expect(source.calls).toHaveLength(2));
    source.calls[1]?.resolve('v2');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v2'));
  });

  it('an invalidation during a refresh wins: the refreshed value is not written', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'v1', { tags: ['product:1'] });
    clock.advance(8_500);
    const source = upstream();
    await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8, tags: ['product:1'] });
    await vi.waitFor(() => expect(source.calls).toHaveLength(1));
    await cache.invalidateTags(['product:1']);
    source.calls[0]?.resolve('refreshed before the invalidation');
    await vi.waitFor(() => expect(cache.stats().inFlight).toBe(0));
    expect(await cache.get('k')).toBeUndefined();
  });

  it('a caller that misses while the refresh runs (the entry ran out) joins it: still one fetch', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'v1');
    clock.advance(8_500);
    const source = upstream();
    expect(await cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    clock.advance(2_000); // expired, no grace
    const missed = cache.getOrSet('k', source.fetcher, { eagerRefresh: 0.8 });
    await flush();
    source.calls[0]?.resolve('v2');
    expect(await missed).toBe('v2');
    expect(source.calls).toHaveLength(1);
  });

  it('flows from the cache and domains to buckets; a bucket can turn it off', async () => {
    const { cache, clock } = open(makeStore(), manualClock(), { eagerRefresh: 0.5 });
    const catalog = cache.domain('catalog', { buckets: { product: {}, price: { eagerRefresh: false } } });
    await catalog.buckets.product.set('1', 'p1');
    await catalog.buckets.price.set('1', 'price1');
    clock.advance(6_000);
    const source = upstream();
    expect(await catalog.buckets.product.getOrSet('1', source.fetcher)).toBe('p1');
    expect(await catalog.buckets.price.getOrSet('1', source.fetcher)).toBe('price1');
    await vi.waitFor(() => expect(source.calls).toHaveLength(1));
    source.calls[0]?.resolve('p2');
    await vi.waitFor(() => expect(catalog.buckets.product.stats().refreshes).toBe(1));
    expect(catalog.buckets.price.stats().refreshes).toBe(0);
  });
});

describe('eagerRefresh across processes (leases)', () => {
  it('4 processes hammering a hot key past the point: 1 refresh fetch in total, nobody waits', async () => {
    const store = leasingStore();
    const clock = manualClock();
    const processes = Array.from({ length: 4 }, () => open(store, clock).cache);
    await processes[0]?.set('hot', 'v1');
    clock.advance(8_500);
    const source = upstream();
    const hammer = () =>
      Promise.all(
        processes.flatMap((cache) =>
          Array.from({ length: 25 }, () => cache.getOrSet('hot', source.fetcher, { eagerRefresh: 0.8 })),
        ),
      );
    expect(await hammer()).toEqual(Array(100).fill('v1'));
    await flush();
    expect(await hammer()).toEqual(Array(100).fill('v1'));
    expect(source.calls).toHaveLength(1);
    source.calls[0]?.resolve('v2');
    await vi.waitFor(async () => {
      for (const cache of processes) expect(await cache.get('hot')).toBe('v2');
    });
    await vi.waitFor(() => expect(store.leases.size).toBe(0));
    // The processes that could not take the lease read the refreshed entry: no second refresh.
    expect(await hammer()).toEqual(Array(100).fill('v2'));
    await flush();
    expect(source.calls).toHaveLength(1);
    const refreshes = processes.map((cache) => cache.stats().buckets.default?.refreshes);
    expect(refreshes.filter((count) => count === 1)).toHaveLength(1);
    expect(refreshes.filter((count) => count === 0)).toHaveLength(3);
  });

  it('a process that gets the lease just after another refreshed reads again and does not refetch', async () => {
    const store = leasingStore();
    const leases = (store as unknown as Record<symbol, StoreCapabilities>)[storeCapabilities]
      ?.leases as NonNullable<StoreCapabilities['leases']>;
    // Holds the second process's acquire until the first one has refreshed and let go.
    let acquireGate: Promise<void> | undefined;
    const acquire = leases.acquire.bind(leases);
    leases.acquire = async (key, token, ttlMs) => {
      await acquireGate;
      return acquire(key, token, ttlMs);
    };
    const clock = manualClock();
    const [first, second] = [open(store, clock).cache, open(store, clock).cache];
    await first.set('hot', 'v1');
    clock.advance(8_500);
    const source = upstream();
    expect(await first.getOrSet('hot', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    await vi.waitFor(() => expect(source.calls).toHaveLength(1));
    const gate = deferred<void>();
    acquireGate = gate.promise;
    // `second` reads the old entry, past its point, and goes for the lease: held at the gate.
    expect(await second.getOrSet('hot', source.fetcher, { eagerRefresh: 0.8 })).toBe('v1');
    source.calls[0]?.resolve('v2');
    await vi.waitFor(async () => expect(await first.get('hot')).toBe('v2'));
    expect(store.leases.size).toBe(0);
    gate.resolve();
    await vi.waitFor(() => expect(second.stats().inFlight).toBe(0));
    expect(source.calls).toHaveLength(1);
    expect(second.stats().buckets.default?.refreshes).toBe(0);
    expect(store.leases.size).toBe(0);
  });
});

describe('eagerRefresh: events and validation', () => {
  it('publishes a refresh event when a refresh ends, with its error when it failed', async () => {
    const seen: CacheEvent[] = [];
    const listener = (message: unknown) => seen.push(message as CacheEvent);
    diagnosticsChannel.subscribe(cacheChannels.refresh, listener);
    try {
      const { cache, clock } = open(new Map(), manualClock(), { name: 'events-refresh' });
      await cache.set('k', 'v1');
      clock.advance(9_000);
      await cache.getOrSet('k', () => 'v2', { eagerRefresh: 0.8 });
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      clock.advance(9_000);
      await cache.getOrSet('k', () => Promise.reject(new Error('down')), { eagerRefresh: 0.8 });
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      expect(seen[0]).toMatchObject({ cache: 'events-refresh', bucket: 'default', key: 'eager:k' });
      expect(seen[0]?.error).toBeUndefined();
      expect(seen[1]?.error).toMatchObject({ message: 'down' });
      expect(typeof seen[1]?.durationMs).toBe('number');
    } finally {
      diagnosticsChannel.unsubscribe(cacheChannels.refresh, listener);
    }
  });

  it.each([0, 1, 1.5, -0.2, Number.NaN, '0.8', true])('refuses eagerRefresh %s', async (value) => {
    expect(() => createCache({ store: new Map(), eagerRefresh: value as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringMatching(/eagerRefresh/) }),
    );
    const { cache } = open(new Map());
    await expect(cache.getOrSet('k', () => 'v', { eagerRefresh: value as never })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    expect(() =>
      cache.domain(`d${String(value).replace(/\W/g, '')}`, { eagerRefresh: value as never, buckets: {} }),
    ).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
  });
});
