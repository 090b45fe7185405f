import { type Cache, createCache, ttl } from '@org/cache-core';
import { bucketReadings } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, manualClock, settle } from './support/helpers.js';

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function setup() {
  const clock = manualClock();
  const cache = createCache({ store: new Map(), prefix: 'stats', clock, strategy: ttl('1m') });
  open.push(cache);
  return { clock, cache };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('cache.stats()', () => {
  it('starts at zero', () => {
    const { cache } = setup();
    const stats = cache.stats();
    expect(stats.timestamp).toMatch(ISO);
    expect(stats.prefix).toBe('stats');
    expect(stats.store).toEqual({ name: 'map', breaker: 'closed' });
    expect(stats.inFlight).toBe(0);
    expect(stats.buckets.default).toEqual({
      hits: 0,
      misses: 0,
      staleHits: 0,
      softTimeouts: 0,
      refreshes: 0,
      refreshErrors: 0,
      coalesced: 0,
      fetches: 0,
      fetchErrors: 0,
      invalidations: 0,
      storeErrors: 0,
      corruptEntries: 0,
      droppedWrites: 0,
      hitRatio: 0,
      fetchLatency: { count: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    });
    expect(stats.totals).toMatchObject({ hits: 0, misses: 0, hitRatio: 0 });
  });

  it('counts a scripted sequence exactly', async () => {
    const { clock, cache } = setup();
    await cache.get('a'); // miss 1
    await cache.set('a', 1);
    await cache.get('a'); // hit 1
    await cache.getOrSet('b', () => 'b'); // miss 2, fetch 1
    await cache.getOrSet('b', () => 'never'); // hit 2

    const gate = deferred<string>();
    const callers = [1, 2, 3].map(() => cache.getOrSet('c', () => gate.promise)); // misses 3-5, fetch 2
    await settle();
    expect(cache.stats().inFlight).toBe(1);
    gate.resolve('c');
    await Promise.all(callers);
    expect(cache.stats().inFlight).toBe(0);

    expect(await cache.getMany(['a', 'b', 'zz'])).toEqual([1, 'b', undefined]); // hits 3-4, miss 6
    await cache.has('a'); // not a counted read
    clock.advance(60_000);
    await cache.get('a'); // expired: miss 7

    await cache.delete('a'); // invalidation 1
    await cache.deleteMany(['b', 'c']); // invalidation 2 (one operation, two keys)
    await cache.invalidateTags(['t1', 't2']); // invalidation 3
    await cache.invalidateTags([]); // nothing to invalidate: not counted
    await cache.deleteByPattern('*'); // invalidation 4

    const stats = cache.stats();
    expect(stats.timestamp).toMatch(ISO);
    expect(new Date(stats.timestamp).toISOString()).toBe(stats.timestamp);
    const bucket = stats.buckets.default;
    expect(bucket).toMatchObject({
      hits: 4,
      misses: 7,
      staleHits: 0,
      coalesced: 2,
      fetches: 2,
      fetchErrors: 0,
      invalidations: 4,
      storeErrors: 0,
      corruptEntries: 0,
      droppedWrites: 0,
      hitRatio: 0.364,
    });
    expect(bucket?.fetchLatency.count).toBe(2);
    expect(bucket?.fetchLatency.maxMs).toBeGreaterThanOrEqual(bucket?.fetchLatency.p50Ms ?? 0);
    const { fetchLatency: _, ...counters } = bucket ?? { fetchLatency: undefined };
    expect(stats.totals).toEqual(counters);
  });

  it('counts fetch errors and their latency, and stores nothing', async () => {
    const { cache } = setup();
    const failing = () => {
      throw new Error('down');
    };
    await expect(cache.getOrSet('x', failing)).rejects.toThrow('down');
    await expect(cache.getOrSet('x', async () => Promise.reject(new Error('down again')))).rejects.toThrow(
      'down again',
    );
    await cache.getOrSet('x', () => 'ok');
    const bucket = cache.stats().buckets.default;
    expect(bucket).toMatchObject({ fetches: 3, fetchErrors: 2 });
    expect(bucket?.fetchLatency.count).toBe(3);
  });

  it('counts a getOrSet whose fetcher failed as a miss (hits + misses = reads)', async () => {
    const { cache } = setup();
    await cache.set('warm', 1);
    await cache.get('warm'); // hit
    await expect(
      cache.getOrSet('cold', () => {
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
    const bucket = cache.stats().buckets.default;
    expect(bucket).toMatchObject({ hits: 1, misses: 1, hitRatio: 0.5 });
  });

  it('sums buckets into totals and keeps domains apart', async () => {
    const { cache } = setup();
    const orders = cache.domain('orders', { buckets: { summaries: {}, detail: {} } });
    await orders.buckets.summaries.get('1');
    await orders.buckets.summaries.set('1', 1);
    await orders.buckets.summaries.get('1');
    await orders.buckets.detail.get('1');
    await cache.get('plain');
    await orders.invalidateTags(['t']);
    const stats = cache.stats();
    expect(stats.buckets['orders:summaries']).toMatchObject({ hits: 1, misses: 1, hitRatio: 0.5 });
    expect(stats.buckets['orders:detail']).toMatchObject({ hits: 0, misses: 1, hitRatio: 0 });
    expect(stats.buckets.default).toMatchObject({ hits: 0, misses: 1 });
    expect(stats.totals).toMatchObject({ hits: 1, misses: 3, invalidations: 1, hitRatio: 0.25 });
  });

  it('returns a snapshot that later activity does not change, and that callers cannot corrupt', async () => {
    const { cache } = setup();
    const before = cache.stats();
    await cache.get('k');
    expect(before.buckets.default?.misses).toBe(0);
    (before.buckets.default as { misses: number }).misses = 100;
    expect(cache.stats().buckets.default?.misses).toBe(1);
  });
});

describe('bucketReadings', () => {
  it('splits each stats bucket id into its domain and bucket names', async () => {
    const cache = createCache({ store: new Map(), prefix: 'readings' });
    cache.domain('orders', { buckets: { detail: {} } });
    const readings = bucketReadings(cache.stats()).map(({ domain, bucket }) => ({ domain, bucket }));
    expect(readings).toEqual(
      expect.arrayContaining([
        { domain: undefined, bucket: 'default' },
        { domain: 'orders', bucket: 'detail' },
      ]),
    );
    await cache.close();
  });
});
