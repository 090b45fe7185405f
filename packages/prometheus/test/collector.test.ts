import { type Cache, type CacheError, type CacheStore, createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { cacheCollector } from '@org/cache-prometheus';
import { Counter, Registry, register } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseExposition, sampleValue } from './support/exposition.js';

const open: Cache[] = [];
const disposers: Array<() => void> = [];

afterEach(async () => {
  for (const dispose of disposers.splice(0)) dispose();
  await Promise.all(open.splice(0).map((cache) => cache.close()));
});

function cacheNamed(name: string, options: Partial<Parameters<typeof createCache>[0]> = {}) {
  const cache = createCache({
    store: memoryStore(),
    prefix: `prom-${name}`,
    name,
    strategy: ttl('1m'),
    ...options,
  });
  open.push(cache);
  return cache;
}

async function scrape(registry: Registry) {
  const text = await registry.metrics();
  return { text, families: parseExposition(text) };
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as CacheError).code;
  }
  return 'no error';
}

describe('cacheCollector', () => {
  it('exposes lookups, fetches, errors, invalidations, the fetch histogram and gauges after a known sequence', async () => {
    const registry = new Registry();
    const clock = { current: Date.UTC(2026, 0, 1), now: () => clock.current };
    const cache = cacheNamed('shop', { clock, grace: '10m' });
    const orders = cache.domain('orders', { buckets: { detail: {} } });
    const detail = orders.buckets.detail;
    disposers.push(cacheCollector(cache, { registry }));

    await detail.getOrSet('SECRET42', () => 1); // miss, fetch
    await detail.getOrSet('SECRET42', () => 2); // hit
    await detail.getOrSet('SECRET42', () => 3); // hit
    let release: (value: number) => void = () => {};
    const slow = new Promise<number>((resolve) => {
      release = resolve;
    });
    const shared = Promise.all([
      detail.getOrSet('SECRET43', () => slow),
      detail.getOrSet('SECRET43', () => slow),
    ]);
    release(4);
    await shared; // two misses, one fetch, one coalesced
    clock.current += 2 * 60_000; // SECRET42 and SECRET43 are past freshness, inside their grace
    const failing = () => Promise.reject(new Error('upstream down'));
    expect(await detail.getOrSet('SECRET42', failing)).toBe(1); // stale, fetch error
    await expect(detail.getOrSet('SECRET44', failing)).rejects.toThrow('upstream down'); // miss, fetch error
    await detail.invalidate('SECRET43');
    await orders.invalidateTags(['account:SECRET45']);

    const { text, families } = await scrape(registry);
    const labels = { cache: 'shop', domain: 'orders', bucket: 'detail' };
    expect(sampleValue(families, 'cache_lookups_total', { ...labels, result: 'hit' })).toBe(2);
    // SECRET42 first, SECRET43 twice, SECRET44: the stale answer counts as stale only.
    expect(sampleValue(families, 'cache_lookups_total', { ...labels, result: 'miss' })).toBe(4);
    expect(sampleValue(families, 'cache_lookups_total', { ...labels, result: 'stale' })).toBe(1);
    expect(sampleValue(families, 'cache_fetches_total', labels)).toBe(4);
    expect(sampleValue(families, 'cache_fetch_errors_total', labels)).toBe(2);
    expect(sampleValue(families, 'cache_coalesced_total', labels)).toBe(1);
    expect(sampleValue(families, 'cache_store_errors_total', labels)).toBe(0);
    expect(sampleValue(families, 'cache_invalidations_total', { ...labels, kind: 'key' })).toBe(1);
    expect(
      sampleValue(families, 'cache_invalidations_total', { domain: 'orders', bucket: '*', kind: 'tags' }),
    ).toBe(1);
    expect(sampleValue(families, 'cache_fetch_duration_seconds_count', labels)).toBe(4);
    expect(sampleValue(families, 'cache_fetch_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(4);
    expect(sampleValue(families, 'cache_fetch_duration_seconds_sum', labels)).toBeLessThan(5);
    expect(sampleValue(families, 'cache_fetches_in_flight', { cache: 'shop' })).toBe(0);
    expect(sampleValue(families, 'cache_entries', { cache: 'shop' })).toBe(1); // SECRET42, stale but kept
    expect(sampleValue(families, 'cache_breaker_state', { cache: 'shop', state: 'closed' })).toBe(1);
    expect(sampleValue(families, 'cache_breaker_state', { cache: 'shop', state: 'open' })).toBe(0);
    // Prometheus naming: counters end in _total, the histogram is in seconds; no key anywhere.
    for (const family of families.values()) {
      if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
      expect(family.help.length, family.name).toBeGreaterThan(0);
    }
    expect(families.get('cache_fetch_duration_seconds')?.type).toBe('histogram');
    expect(text).not.toContain('SECRET');
    // Scraping again reads the same values: counters are read from stats(), not accumulated.
    expect((await scrape(registry)).text).toBe(text);
  });

  it('collects two caches, and the same cache twice, in one registry without duplicate registrations', async () => {
    const registry = new Registry();
    const first = cacheNamed('first');
    const second = cacheNamed('second');
    const disposeFirst = cacheCollector(first, { registry });
    const disposeBoth = cacheCollector([first, second], { registry });
    disposers.push(disposeFirst, disposeBoth);
    await first.getOrSet('k', () => 1);
    await first.getOrSet('k', () => 1);
    await second.getOrSet('k', () => 1);
    let { families } = await scrape(registry);
    const hits = (cache: string) =>
      sampleValue(families, 'cache_lookups_total', { cache, bucket: 'default', result: 'hit' });
    expect(hits('first')).toBe(1);
    expect(hits('second')).toBe(0);
    // A plain call has an empty domain label.
    expect(
      sampleValue(families, 'cache_fetches_total', { cache: 'second', domain: '', bucket: 'default' }),
    ).toBe(1);

    disposeBoth(); // first is still attached by its own collector
    ({ families } = await scrape(registry));
    expect(hits('first')).toBe(1);
    expect(() => hits('second')).toThrow('0 samples');
    disposeFirst(); // the last cache: the metrics are unregistered
    expect(registry.getSingleMetric('cache_lookups_total')).toBeUndefined();
    expect(await registry.metrics()).toBe('\n');
    disposers.push(cacheCollector(second, { registry })); // and can be registered again
    expect(registry.getSingleMetric('cache_lookups_total')).toBeDefined();
  });

  it('refuses a name clash, a taken metric name, a bad prefix and non-caches', () => {
    const registry = new Registry();
    const first = cacheNamed('same');
    const clash = createCache({ store: memoryStore(), prefix: 'prom-other', name: 'same' });
    open.push(clash);
    disposers.push(cacheCollector(first, { registry }));
    expect(codeOf(() => cacheCollector(clash, { registry }))).toBe('E_INVALID_OPTION');
    const appRegistry = new Registry();
    new Counter({ name: 'cache_lookups_total', help: 'the app’s own', registers: [appRegistry] });
    expect(codeOf(() => cacheCollector(first, { registry: appRegistry }))).toBe('E_INVALID_OPTION');
    expect(codeOf(() => cacheCollector(first, { registry, prefix: 'bad-prefix' }))).toBe('E_INVALID_OPTION');
    expect(codeOf(() => cacheCollector([], { registry }))).toBe('E_INVALID_OPTION');
    expect(codeOf(() => cacheCollector({} as Cache, { registry }))).toBe('E_INVALID_OPTION');
    expect(codeOf(() => cacheCollector(first, { registry: {} as Registry }))).toBe('E_INVALID_OPTION');
  });

  it('uses the prefix given, and prom-client’s global registry by default', async () => {
    const cache = cacheNamed('prefixed');
    const registry = new Registry();
    disposers.push(cacheCollector(cache, { registry, prefix: 'bff_cache_', entries: false }));
    await cache.getOrSet('k', () => 1);
    const { families } = await scrape(registry);
    expect(sampleValue(families, 'bff_cache_fetches_total', { cache: 'prefixed' })).toBe(1);
    expect(families.has('bff_cache_entries')).toBe(true);
    expect(families.get('bff_cache_entries')?.samples).toEqual([]);
    const dispose = cacheCollector(cache);
    expect(register.getSingleMetric('cache_lookups_total')).toBeDefined();
    dispose();
    expect(register.getSingleMetric('cache_lookups_total')).toBeUndefined();
  });

  it('shows store errors and the breaker opening when the store fails', async () => {
    const failing = {
      opts: {},
      namespace: undefined,
      on() {
        return this;
      },
      get: async () => {
        throw new Error('connection refused');
      },
      set: async () => {
        throw new Error('connection refused');
      },
      delete: async () => false,
      clear: async () => {},
    } as unknown as CacheStore;
    const cache = cacheNamed('down', { store: failing, breaker: { failureThreshold: 3, cooldown: '1m' } });
    const registry = new Registry();
    disposers.push(cacheCollector(cache, { registry }));
    for (let call = 0; call < 3; call++) expect(await cache.get('k')).toBeUndefined();
    const { families } = await scrape(registry);
    expect(sampleValue(families, 'cache_store_errors_total', { cache: 'down' })).toBe(3);
    expect(sampleValue(families, 'cache_breaker_state', { cache: 'down', state: 'open' })).toBe(1);
    expect(sampleValue(families, 'cache_breaker_state', { cache: 'down', state: 'closed' })).toBe(0);
    // The store cannot count its entries: the sample is left out, the scrape still answers.
    expect(families.get('cache_entries')?.samples).toEqual([]);
  });

  it('exposes soft timeouts, refreshes and refresh errors, and every counter stats() keeps', async () => {
    const registry = new Registry();
    const clock = { current: Date.UTC(2026, 0, 1), now: () => clock.current };
    const cache = cacheNamed('fresh', { clock, grace: '10m' });
    disposers.push(cacheCollector(cache, { registry }));
    await cache.set('slow', 'old');
    await cache.set('hot', 'v1');
    clock.current += 61_000; // `slow` is stale; `hot` too, but refreshed below before that matters
    let release: (value: string) => void = () => {};
    const upstream = new Promise<string>((resolve) => {
      release = resolve;
    });
    expect(await cache.getOrSet('slow', () => upstream, { softTimeout: 20 })).toBe('old');
    release('new');
    await cache.set('hot', 'v1');
    clock.current += 50_000; // past 80% of the minute
    await cache.getOrSet('hot', () => 'v2', { eagerRefresh: 0.8 });
    await vi.waitFor(async () => expect(await cache.get('hot')).toBe('v2'));
    clock.current += 50_000;
    await cache.getOrSet('hot', () => Promise.reject(new Error('down')), { eagerRefresh: 0.8 });
    await vi.waitFor(() => expect(cache.stats().totals.refreshErrors).toBe(1));

    const { families } = await scrape(registry);
    const labels = { cache: 'fresh', domain: '', bucket: 'default' };
    expect(sampleValue(families, 'cache_soft_timeouts_total', labels)).toBe(1);
    expect(sampleValue(families, 'cache_refreshes_total', labels)).toBe(2);
    expect(sampleValue(families, 'cache_refresh_errors_total', labels)).toBe(1);
    // Every counter core keeps has its family: hits, misses and stale hits are lookups by result,
    // invalidations come by kind; the others by their own name.
    const { hitRatio: _, hits, misses, staleHits, invalidations, ...others } = cache.stats().totals;
    for (const field of Object.keys(others)) {
      const family = `cache_${field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}_total`;
      expect(families.has(family), family).toBe(true);
    }
  });
});
