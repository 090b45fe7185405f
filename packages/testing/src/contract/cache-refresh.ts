import assert from 'node:assert/strict';
import { ttl } from '@org/cache-core';
import { eventually, sleep } from './assertions.js';
import type { CacheTestBody } from './cache-fixture.js';

type Register = (name: string, body: CacheTestBody) => void;

/** A promise the test settles when it chooses, and how many times the fetcher asked for it. */
function slowUpstream<T>() {
  let settle: { resolve: (value: T) => void; reject: (error: unknown) => void } | undefined;
  const answer = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const upstream = {
    calls: 0,
    fetcher: () => {
      upstream.calls++;
      return answer;
    },
    resolve: (value: T) => settle?.resolve(value),
  };
  return upstream;
}

/**
 * Freshness without waiting, through createCache, on every store: soft timeouts, eager refresh
 * and TTL jitter. The clock is manual; soft timeouts are short real timers, and no assertion
 * bounds wall time (a caller not answered early would wait on a fetch the test never settles).
 */
export function cacheRefreshTests(test: Register): void {
  test('softTimeout: callers get the stale value at the soft timeout; the background fetch then lands', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('1m'), grace: '10m' });
    await cache.set('k', 'old');
    // Without the entry the call would wait on a fetch the test never settles: fail fast instead.
    assert.equal(await cache.get('k'), 'old');
    clock.advance('61s');
    const upstream = slowUpstream<string>();
    const options = { softTimeout: 20, fetchTimeout: '1m' } as const;
    assert.equal(await cache.getOrSet('k', upstream.fetcher, options), 'old');
    assert.equal(await cache.getOrSet('k', upstream.fetcher, options), 'old', 'a joiner gets it at once');
    // The soft timeout counts from the stale read, so on a loaded machine it can fire while the
    // flight is still taking the store's lease, before the fetcher is called.
    await eventually(() => assert.equal(upstream.calls, 1));
    const stats = cache.stats().buckets.default;
    assert.equal(stats?.softTimeouts, 1);
    assert.equal(stats?.staleHits, 2);
    upstream.resolve('new');
    await eventually(async () => assert.equal(await cache.get('k'), 'new'));
  });

  test('softTimeout: an invalidation during the background fetch wins over its value', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('1m'), grace: '10m' });
    await cache.set('k', 'old');
    // Without the entry the call would wait on a fetch the test never settles: fail fast instead.
    assert.equal(await cache.get('k'), 'old');
    clock.advance('61s');
    const upstream = slowUpstream<string>();
    assert.equal(await cache.getOrSet('k', upstream.fetcher, { softTimeout: 20 }), 'old');
    await cache.delete('k');
    upstream.resolve('fetched before the delete');
    await eventually(() => assert.equal(cache.stats().inFlight, 0));
    assert.equal(await cache.get('k'), undefined);
  });

  test('eagerRefresh: hits past the point are served from the cache and start one refresh, whose value lands', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('10s') });
    await cache.set('hot', 'v1');
    assert.equal(await cache.get('hot'), 'v1');
    clock.advance('8500ms');
    const upstream = slowUpstream<string>();
    const values = await Promise.all(
      Array.from({ length: 40 }, () => cache.getOrSet('hot', upstream.fetcher, { eagerRefresh: 0.8 })),
    );
    assert.deepEqual(values, Array(40).fill('v1'));
    await eventually(() => assert.equal(upstream.calls, 1));
    upstream.resolve('v2');
    await eventually(async () => assert.equal(await cache.get('hot'), 'v2'));
    await eventually(() => assert.equal(cache.stats().buckets.default?.refreshes, 1));
    assert.equal(await cache.getOrSet('hot', upstream.fetcher, { eagerRefresh: 0.8 }), 'v2');
    await sleep(20);
    assert.equal(upstream.calls, 1, 'the refreshed entry is not due again');
  });

  test('eagerRefresh: an invalidation during the refresh wins over its value', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('10s') });
    await cache.set('hot', 'v1');
    assert.equal(await cache.get('hot'), 'v1');
    clock.advance('9s');
    const upstream = slowUpstream<string>();
    assert.equal(await cache.getOrSet('hot', upstream.fetcher, { eagerRefresh: 0.8 }), 'v1');
    await eventually(() => assert.equal(upstream.calls, 1));
    await cache.delete('hot');
    upstream.resolve('refreshed before the delete');
    await eventually(() => assert.equal(cache.stats().inFlight, 0));
    assert.equal(await cache.get('hot'), undefined);
  });

  test('jitter: entries written together expire across the +-10% band, not at once', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('10m', { jitter: 0.1 }) });
    const keys = Array.from({ length: 100 }, (_, index) => `j${index}`);
    await cache.setMany(keys.map((key) => ({ key, value: key })));
    const missing = async () => (await cache.getMany(keys)).filter((value) => value === undefined).length;
    clock.advance(540_000 - 1); // 9 minutes: the shortest a lifetime can be
    assert.equal(await missing(), 0);
    clock.advance(60_000); // 10 minutes: about half are gone (all but impossible: none or all)
    const half = await missing();
    assert.ok(half > 5 && half < 95, `expected some of 100 entries expired at 10 minutes, got ${half}`);
    clock.advance(60_000 + 2); // past 11 minutes: the longest
    assert.equal(await missing(), 100);
  });
}
