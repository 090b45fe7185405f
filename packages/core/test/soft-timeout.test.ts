import { type Cache, type CacheOptions, type CacheStore, createCache, ttl } from '@org/cache-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { manualClock } from './support/helpers.js';
import { deferred, faultyStore, flush, leasingStore } from './support/stores.js';

/**
 * `softTimeout`: with a stale value at hand, callers get it once the fetch has run that long; the
 * fetch goes on in the background and its value lands. Soft timeouts are short real timers (the
 * feature is a timer); nothing asserts an upper bound on wall time: a caller that was not
 * answered early would wait for a fetch the test never finishes, and the test would time out.
 */
const SOFT_MS = 20;
const caches: Cache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

function open(store: CacheOptions['store'], clock = manualClock(), options: Partial<CacheOptions> = {}) {
  const cache = createCache({ store, prefix: 'soft', clock, strategy: ttl('1m'), grace: '10m', ...options });
  caches.push(cache);
  return { cache, clock };
}

/** Whether a promise has settled yet, read without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

const stores: Array<[string, () => CacheStore | Map<string, unknown>]> = [
  ['a synchronous store (Map)', () => new Map<string, unknown>()],
  ['an asynchronous store', () => faultyStore()],
];

describe.each(stores)('softTimeout on %s', (_, makeStore) => {
  it('answers with the stale value at the soft timeout; the fetch goes on and its value lands', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'old');
    clock.advance(61_000); // stale, inside grace
    const upstream = deferred<string>();
    let fetches = 0;
    const slow = () => {
      fetches++;
      return upstream.promise;
    };
    const options = { softTimeout: SOFT_MS, fetchTimeout: '1m' } as const;

    expect(await cache.getOrSet('k', slow, options)).toBe('old');
    // Joining the background fetch: the stale value at once, no second fetch.
    expect(await cache.getOrSet('k', slow, options)).toBe('old');
    expect(fetches).toBe(1);
    expect(cache.stats().inFlight).toBe(1);
    const stats = cache.stats().buckets.default;
    expect(stats).toMatchObject({ softTimeouts: 1, staleHits: 2, misses: 2, fetches: 1, coalesced: 1 });

    upstream.resolve('new');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('new'));
    expect(cache.stats().inFlight).toBe(0);
    expect(await cache.getOrSet('k', slow, options)).toBe('new');
    expect(fetches).toBe(1);
  });

  it('without a stale value, callers wait for the fetch (up to fetchTimeout) as before', async () => {
    const { cache } = open(makeStore());
    const upstream = deferred<string>();
    const call = cache.getOrSet('k', () => upstream.promise, { softTimeout: SOFT_MS });
    const state = track(call);
    await new Promise((resolve) => setTimeout(resolve, SOFT_MS * 4));
    expect(state.settled).toBe(false);
    upstream.resolve('fetched');
    expect(await call).toBe('fetched');
    expect(cache.stats().buckets.default?.softTimeouts).toBe(0);
  });

  it('an invalidation during the background fetch wins: its value is not written', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'old');
    clock.advance(61_000);
    const upstream = deferred<string>();
    expect(await cache.getOrSet('k', () => upstream.promise, { softTimeout: SOFT_MS })).toBe('old');
    await cache.delete('k');
    // A call after the invalidation never joins the older fetch.
    expect(await cache.getOrSet('k', () => 'after the delete')).toBe('after the delete');
    upstream.resolve('from before the delete');
    await flush();
    await vi.waitFor(() => expect(cache.stats().inFlight).toBe(0));
    expect(await cache.get('k')).toBe('after the delete');
  });

  it('a fetch that ends before the soft timeout answers as usual', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'old');
    clock.advance(61_000);
    expect(await cache.getOrSet('k', async () => 'quick', { softTimeout: 10_000 })).toBe('quick');
    expect(cache.stats().buckets.default).toMatchObject({ softTimeouts: 0, staleHits: 0 });
  });

  it('callers joining once the stale value is past its grace wait for the background fetch', async () => {
    const { cache, clock } = open(makeStore(), manualClock(), { grace: '2m' });
    await cache.set('k', 'old');
    clock.advance(61_000);
    const upstream = deferred<string>();
    const fetcher = () => upstream.promise;
    expect(await cache.getOrSet('k', fetcher, { softTimeout: SOFT_MS })).toBe('old');
    clock.advance(120_000); // the stale value's grace is over
    const late = cache.getOrSet('k', fetcher, { softTimeout: SOFT_MS });
    const state = track(late);
    await new Promise((resolve) => setTimeout(resolve, SOFT_MS * 4));
    expect(state.settled).toBe(false);
    upstream.resolve('new');
    expect(await late).toBe('new');
  });

  it('a background fetch that fails keeps the stale entry and reaches nobody as an error', async () => {
    const { cache, clock } = open(makeStore());
    await cache.set('k', 'old');
    clock.advance(61_000);
    const upstream = deferred<string>();
    expect(await cache.getOrSet('k', () => upstream.promise, { softTimeout: SOFT_MS })).toBe('old');
    upstream.reject(new Error('upstream down'));
    await vi.waitFor(() => expect(cache.stats().inFlight).toBe(0));
    expect(cache.stats().buckets.default?.fetchErrors).toBe(1);
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('still down')))).toBe('old');
  });
});

describe('softTimeout defaults and validation', () => {
  it('flows from the cache to domains and buckets; a bucket can turn it off', async () => {
    const { cache, clock } = open(new Map(), manualClock(), { softTimeout: SOFT_MS });
    const orders = cache.domain('orders', { buckets: { detail: {}, live: { softTimeout: 0 } } });
    await orders.buckets.detail.set('1', 'old');
    await orders.buckets.live.set('1', 'old');
    clock.advance(61_000);
    const upstream = deferred<string>();
    expect(await orders.buckets.detail.getOrSet('1', () => upstream.promise)).toBe('old');
    const waiting = track(orders.buckets.live.getOrSet('1', () => upstream.promise));
    await new Promise((resolve) => setTimeout(resolve, SOFT_MS * 4));
    expect(waiting.settled).toBe(false);
    upstream.resolve('new');
    await vi.waitFor(() => expect(waiting.settled).toBe(true));
    expect(orders.buckets.detail.stats().softTimeouts).toBe(1);
    expect(orders.buckets.live.stats().softTimeouts).toBe(0);
  });

  it('refuses a soft timeout that is not below the fetch timeout, wherever each is set', async () => {
    expect(() => createCache({ store: new Map(), softTimeout: '30s' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringMatching(/softTimeout/) }),
    );
    expect(() => createCache({ store: new Map(), softTimeout: -1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => createCache({ store: new Map(), softTimeout: 'soon' as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    // No fetch timeout: any soft timeout is below it.
    createCache({ store: new Map(), softTimeout: '1m', fetchTimeout: 0 });
    const { cache } = open(new Map(), manualClock(), { softTimeout: 500 });
    expect(() => cache.domain('orders', { buckets: { detail: { fetchTimeout: 500 } } })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringMatching(/orders\.detail/) }),
    );
    await expect(cache.getOrSet('k', () => 'v', { fetchTimeout: 100 })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    await expect(cache.getOrSet('k', () => 'v', { softTimeout: 50, fetchTimeout: 100 })).resolves.toBe('v');
  });
});

describe('softTimeout across processes (leases)', () => {
  it('a waiter holding a stale value is answered at the soft timeout while another process fetches', async () => {
    const store = leasingStore();
    const clock = manualClock();
    const { cache: holder } = open(store, clock, { lease: { ttl: 10_000 } });
    const { cache: waiter } = open(store, clock, { lease: { ttl: 10_000 } });
    await holder.set('k', 'old');
    clock.advance(61_000);
    const upstream = deferred<string>();
    let fetches = 0;
    const fetcher = () => {
      fetches++;
      return upstream.promise;
    };
    const held = holder.getOrSet('k', fetcher);
    await flush();
    expect(await waiter.getOrSet('k', fetcher, { softTimeout: SOFT_MS })).toBe('old');
    expect(fetches).toBe(1);
    upstream.resolve('new');
    expect(await held).toBe('new');
    await vi.waitFor(async () => expect(await waiter.get('k')).toBe('new'));
    expect(fetches).toBe(1);
  });

  it('another process invalidating during the background fetch revokes its lease: nothing is written', async () => {
    const store = leasingStore();
    const clock = manualClock();
    const { cache: fetching } = open(store, clock);
    const { cache: other } = open(store, clock);
    await fetching.set('k', 'old');
    clock.advance(61_000);
    const upstream = deferred<string>();
    expect(await fetching.getOrSet('k', () => upstream.promise, { softTimeout: SOFT_MS })).toBe('old');
    await other.delete('k');
    upstream.resolve('from before the delete');
    await vi.waitFor(() => expect(fetching.stats().inFlight).toBe(0));
    expect(await other.get('k')).toBeUndefined();
    expect(await fetching.get('k')).toBeUndefined();
  });
});
