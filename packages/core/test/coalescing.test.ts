import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deferred, flush, structuredStore } from './support/stores.js';

const stores = {
  map: () => new Map<string, unknown>(),
  structured: () => structuredStore(),
};

describe.each(Object.entries(stores))('request coalescing on a %s store', (_, makeStore) => {
  let cache: Cache;
  afterEach(async () => {
    await cache?.close();
  });

  it('runs one fetch for 1000 concurrent callers and gives every caller the value', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co' });
    const gate = deferred<{ page: number }>();
    let fetches = 0;
    const callers = Array.from({ length: 1000 }, () =>
      cache.getOrSet('orders:summaries:acc1', () => {
        fetches++;
        return gate.promise;
      }),
    );
    await flush();
    gate.resolve({ page: 1 });
    const results = await Promise.all(callers);
    expect(fetches).toBe(1);
    expect(results).toHaveLength(1000);
    for (const result of results) expect(result).toEqual({ page: 1 });
    const stats = cache.stats().buckets.default;
    expect(stats?.fetches).toBe(1);
    expect(stats?.coalesced).toBe(999);
    expect(stats?.misses).toBe(1000);
  });

  it('serves the next call from the cache without fetching', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co' });
    let fetches = 0;
    await cache.getOrSet('k', () => ++fetches);
    expect(await cache.getOrSet('k', () => ++fetches)).toBe(1);
    expect(fetches).toBe(1);
    expect(cache.stats().buckets.default?.hits).toBe(1);
  });

  it('fetches different keys independently', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co' });
    const fetched: string[] = [];
    const results = await Promise.all(
      ['a', 'b', 'c', 'a', 'b'].map((id) =>
        cache.getOrSet(`k:${id}`, async () => {
          fetched.push(id);
          return id.toUpperCase();
        }),
      ),
    );
    expect(results).toEqual(['A', 'B', 'C', 'A', 'B']);
    expect(fetched.sort()).toEqual(['a', 'b', 'c']);
  });

  it('delivers a fetch error to every waiter and stores nothing', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co' });
    const gate = deferred<string>();
    const failure = new Error('salesforce is down');
    const callers = Array.from({ length: 50 }, () => cache.getOrSet('k', () => gate.promise));
    await flush();
    gate.reject(failure);
    const settled = await Promise.allSettled(callers);
    for (const result of settled) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBe(failure);
    }
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().buckets.default?.fetchErrors).toBe(1);
    // The failure is not cached: the next call fetches again.
    expect(await cache.getOrSet('k', () => 'recovered')).toBe('recovered');
  });

  it('treats a synchronous throw in the fetcher like a rejection', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co' });
    const call = cache.getOrSet('k', () => {
      throw new Error('sync boom');
    });
    await expect(call).rejects.toThrow('sync boom');
  });

  it('gives up on a hanging fetcher at fetchTimeout, aborting its signal', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co', fetchTimeout: 30 });
    let signal: AbortSignal | undefined;
    const callers = Array.from({ length: 5 }, () =>
      cache.getOrSet('k', (context) => {
        signal = context.signal;
        return new Promise<string>(() => {});
      }),
    );
    for (const result of await Promise.allSettled(callers)) {
      expect(result.status).toBe('rejected');
      expect(isCacheError((result as PromiseRejectedResult).reason, 'E_FETCH_TIMEOUT')).toBe(true);
    }
    expect(signal?.aborted).toBe(true);
    expect(cache.stats().buckets.default?.fetchErrors).toBe(1);
  });

  it('aborts running fetchers when the cache closes, and refuses calls afterwards', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co' });
    let signal: AbortSignal | undefined;
    const running = cache.getOrSet('k', (context) => {
      signal = context.signal;
      return new Promise<string>((_, reject) =>
        context.signal.addEventListener('abort', () => reject(context.signal.reason)),
      );
    });
    await flush();
    await cache.close();
    expect(signal?.aborted).toBe(true);
    await expect(running).rejects.toMatchObject({ code: 'E_CLOSED' });
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' });
    await expect(cache.getOrSet('k', () => 1)).rejects.toMatchObject({ code: 'E_CLOSED' });
  });

  // The fetch's controller hangs on its flight, which close() aborts: no listener per fetch on a
  // signal every fetch shares (11 of them used to trip Node's MaxListenersExceededWarning).
  it('adds no abort listener per fetch, and leaves none behind', async () => {
    cache = createCache({ store: makeStore(), prefix: 'co', fetchTimeout: 1000 });
    const added = vi.spyOn(AbortSignal.prototype, 'addEventListener');
    const removed = vi.spyOn(AbortSignal.prototype, 'removeEventListener');
    try {
      for (let index = 0; index < 1000; index++) {
        await cache.getOrSet(`k:${index}`, () => Promise.reject(new Error('nope'))).catch(() => {});
      }
      const abortAdds = added.mock.calls.filter(([type]) => type === 'abort').length;
      const abortRemoves = removed.mock.calls.filter(([type]) => type === 'abort').length;
      expect(abortAdds).toBeLessThan(10);
      expect(abortRemoves).toBe(abortAdds);
      expect(cache.stats().inFlight).toBe(0);
    } finally {
      added.mockRestore();
      removed.mockRestore();
    }
  });
});
