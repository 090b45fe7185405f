import { type Cache, type CacheError, createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { instrumentCache } from '@org/cache-otel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type OtelSdk, otelSdk, pointValue } from './support/otel.js';

const open: Cache[] = [];
const sdks: OtelSdk[] = [];
const stops: Array<() => void> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await Promise.all(open.splice(0).map((cache) => cache.close()));
  await Promise.all(sdks.splice(0).map((sdk) => sdk.shutdown()));
});

function setup(name: string) {
  const sdk = otelSdk();
  sdks.push(sdk);
  const cache = createCache({ store: memoryStore(), prefix: `otel-${name}`, name, strategy: ttl('1m') });
  open.push(cache);
  const orders = cache.domain('orders', { buckets: { detail: {} } });
  return { sdk, cache, orders, detail: orders.buckets.detail };
}

/** Two misses that fetch, two hits, two callers sharing one fetch, one failing fetch, two invalidations. */
async function knownSequence({ orders, detail }: ReturnType<typeof setup>) {
  await detail.getOrSet('SECRET42', () => ({ total: 1 }));
  await detail.getOrSet('SECRET42', () => ({ total: 2 }));
  await detail.getOrSet('SECRET42', () => ({ total: 3 }));
  let release: (value: { total: number }) => void = () => {};
  const slow = new Promise<{ total: number }>((resolve) => {
    release = resolve;
  });
  const shared = Promise.all([
    detail.getOrSet('SECRET43', () => slow),
    detail.getOrSet('SECRET43', () => slow),
  ]);
  release({ total: 4 });
  await shared;
  await expect(
    detail.getOrSet('SECRET44', () => {
      throw new Error('upstream down');
    }),
  ).rejects.toThrow('upstream down');
  await detail.invalidate('SECRET42');
  await orders.invalidateTags(['account:SECRET45']);
}

describe('instrumentCache metrics', () => {
  it('reports lookups by result, fetches, errors, invalidations by kind, durations and gauges', async () => {
    const subject = setup('shop');
    stops.push(instrumentCache(subject.cache, { meterProvider: subject.sdk.meterProvider }));
    await knownSequence(subject);
    const points = await subject.sdk.points();
    const detail = { 'cache.name': 'shop', domain: 'orders', bucket: 'detail' };
    expect(pointValue(points, 'cache.lookups', { ...detail, result: 'hit' })).toBe(2);
    expect(pointValue(points, 'cache.lookups', { ...detail, result: 'miss' })).toBe(4);
    expect(pointValue(points, 'cache.lookups', { ...detail, result: 'stale' })).toBe(0);
    expect(pointValue(points, 'cache.fetches', detail)).toBe(3);
    expect(pointValue(points, 'cache.fetch.errors', detail)).toBe(1);
    expect(pointValue(points, 'cache.coalesced', detail)).toBe(1);
    expect(pointValue(points, 'cache.store.errors', detail)).toBe(0);
    expect(pointValue(points, 'cache.invalidations', { ...detail, kind: 'key' })).toBe(1);
    expect(pointValue(points, 'cache.invalidations', { domain: 'orders', bucket: '*', kind: 'tags' })).toBe(
      1,
    );
    // Every fetch is timed, the failed one included; in seconds.
    expect(pointValue(points, 'cache.fetch.duration', detail)).toBe(3);
    const duration = points.find((point) => point.metric === 'cache.fetch.duration');
    expect(duration?.sum).toBeLessThan(5);
    expect(pointValue(points, 'cache.fetches.in_flight', { 'cache.name': 'shop' })).toBe(0);
    // SECRET42 was invalidated, SECRET44 failed: only SECRET43 is held.
    expect(pointValue(points, 'cache.entries', { 'cache.name': 'shop' })).toBe(1);
    expect(pointValue(points, 'cache.breaker.state', { 'cache.name': 'shop', state: 'closed' })).toBe(1);
    expect(pointValue(points, 'cache.breaker.state', { 'cache.name': 'shop', state: 'open' })).toBe(0);
  });

  it('reports soft timeouts, refreshes and refresh errors', async () => {
    const sdk = otelSdk();
    sdks.push(sdk);
    const clock = { current: Date.UTC(2026, 0, 1), now: () => clock.current };
    const cache = createCache({
      store: memoryStore(),
      prefix: 'otel-fresh',
      name: 'fresh',
      clock,
      grace: '10m',
    });
    open.push(cache);
    stops.push(instrumentCache(cache, { meterProvider: sdk.meterProvider }));
    await cache.set('slow', 'old', { ttl: '1m' });
    clock.current += 61_000;
    let release: (value: string) => void = () => {};
    const upstream = new Promise<string>((resolve) => {
      release = resolve;
    });
    expect(await cache.getOrSet('slow', () => upstream, { softTimeout: 20 })).toBe('old');
    release('new');
    await cache.set('hot', 'v1', { ttl: '1m' });
    clock.current += 50_000;
    await cache.getOrSet('hot', () => Promise.reject(new Error('down')), { eagerRefresh: 0.8 });
    await vi.waitFor(() => expect(cache.stats().totals.refreshErrors).toBe(1));
    const points = await sdk.points();
    const plain = { 'cache.name': 'fresh', bucket: 'default' };
    expect(pointValue(points, 'cache.soft_timeouts', plain)).toBe(1);
    expect(pointValue(points, 'cache.refreshes', plain)).toBe(1);
    expect(pointValue(points, 'cache.refresh.errors', plain)).toBe(1);
  });

  it('never puts a key or an id in an attribute', async () => {
    const subject = setup('nokeys');
    stops.push(instrumentCache(subject.cache, { meterProvider: subject.sdk.meterProvider }));
    await knownSequence(subject);
    const points = await subject.sdk.points();
    expect(points.length).toBeGreaterThan(20);
    const attributes = JSON.stringify(points.map((point) => point.attributes));
    expect(attributes).not.toContain('SECRET');
    const names = new Set(points.flatMap((point) => Object.keys(point.attributes)));
    expect([...names].sort()).toEqual(['bucket', 'cache.name', 'domain', 'kind', 'result', 'state']);
  });

  it('stops recording and observing once uninstrumented', async () => {
    const subject = setup('stops');
    const uninstrument = instrumentCache(subject.cache, { meterProvider: subject.sdk.meterProvider });
    await knownSequence(subject);
    const before = await subject.sdk.points();
    const detail = { 'cache.name': 'stops', domain: 'orders', bucket: 'detail' };
    expect(pointValue(before, 'cache.fetch.duration', detail)).toBe(3);
    uninstrument();
    uninstrument(); // twice is harmless
    await knownSequence(subject);
    // SECRET43 is still cached: two more fetches, five in all.
    expect(subject.cache.stats().totals.fetches).toBe(5); // the cache did work...
    const after = await subject.sdk.points();
    // ...that nothing reported: the histogram and the invalidations kept their values, and the
    // observable instruments are no longer observed (no point, or the last value seen).
    expect(pointValue(after, 'cache.fetch.duration', detail)).toBe(3);
    expect(pointValue(after, 'cache.invalidations', { ...detail, kind: 'key' })).toBe(1);
    const fetches = after
      .filter((point) => point.metric === 'cache.fetches' && point.attributes.bucket === 'detail')
      .map((point) => point.value);
    expect(fetches.filter((value) => value !== 3)).toEqual([]);
  });

  it('tells two caches apart and refuses a second cache under a taken name', async () => {
    const sdk = otelSdk();
    sdks.push(sdk);
    const first = createCache({ store: memoryStore(), prefix: 'otel-a', strategy: ttl('1m') });
    const second = createCache({
      store: memoryStore(),
      prefix: 'otel-b',
      name: 'second',
      strategy: ttl('1m'),
    });
    const clash = createCache({
      store: memoryStore(),
      prefix: 'otel-c',
      name: 'second',
      strategy: ttl('1m'),
    });
    open.push(first, second, clash);
    stops.push(instrumentCache(first, { meterProvider: sdk.meterProvider }));
    stops.push(instrumentCache(second, { meterProvider: sdk.meterProvider }));
    expect(() => instrumentCache(clash, { meterProvider: sdk.meterProvider })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    await first.getOrSet('k', () => 1);
    await first.getOrSet('k', () => 1);
    await second.getOrSet('k', () => 1);
    const points = await sdk.points();
    expect(pointValue(points, 'cache.lookups', { 'cache.name': 'otel-a', result: 'hit' })).toBe(1);
    expect(pointValue(points, 'cache.lookups', { 'cache.name': 'second', result: 'hit' })).toBe(0);
    expect(pointValue(points, 'cache.fetch.duration', { 'cache.name': 'otel-a' })).toBe(1);
    expect(pointValue(points, 'cache.fetch.duration', { 'cache.name': 'second' })).toBe(1);
    // A plain cache call has no domain attribute; its bucket is `default`.
    const plain = points.find(
      (point) => point.metric === 'cache.fetches' && point.attributes['cache.name'] === 'second',
    );
    expect(plain?.attributes).toEqual({ 'cache.name': 'second', bucket: 'default' });
  });

  it('leaves out the entries gauge when asked, and refuses bad options and non-caches', async () => {
    const subject = setup('options');
    stops.push(instrumentCache(subject.cache, { meterProvider: subject.sdk.meterProvider, entries: false }));
    await subject.detail.getOrSet('1', () => 1);
    const points = await subject.sdk.points();
    expect(points.some((point) => point.metric === 'cache.lookups')).toBe(true);
    expect(points.some((point) => point.metric === 'cache.entries')).toBe(false);
    const code = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as CacheError).code;
      }
      return 'no error';
    };
    expect(code(() => instrumentCache({} as Cache))).toBe('E_INVALID_OPTION');
    expect(code(() => instrumentCache(subject.cache, { spans: 'some' as 'all' }))).toBe('E_INVALID_OPTION');
    expect(code(() => instrumentCache(subject.cache, { entries: 'yes' as unknown as boolean }))).toBe(
      'E_INVALID_OPTION',
    );
  });
});
