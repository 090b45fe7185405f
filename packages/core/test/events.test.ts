import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Cache,
  type CacheEvent,
  type CacheEventName,
  type CacheStore,
  cacheChannels,
  createCache,
  ttl,
} from '@org/cache-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from './support/helpers.js';

type Recorded = CacheEvent & { channel: CacheEventName };

let recorded: Recorded[] = [];
const listeners = new Map<CacheEventName, (message: unknown) => void>();

beforeEach(() => {
  recorded = [];
  for (const name of Object.keys(cacheChannels) as CacheEventName[]) {
    const listener = (message: unknown) => recorded.push({ ...(message as CacheEvent), channel: name });
    listeners.set(name, listener);
    diagnosticsChannel.subscribe(cacheChannels[name], listener);
  }
});

function unsubscribeAll(): void {
  for (const [name, listener] of listeners) diagnosticsChannel.unsubscribe(cacheChannels[name], listener);
  listeners.clear();
}

let open: Cache[] = [];
afterEach(async () => {
  unsubscribeAll();
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

let sequence = 0;
function setup() {
  const map = new Map<string, unknown>();
  const clock = manualClock();
  const prefix = `ev${++sequence}`;
  const cache = createCache({ store: map, prefix, clock, strategy: ttl('1m'), grace: '1m' });
  open.push(cache);
  const orders = cache.domain('orders', { buckets: { summaries: {} } });
  const events = (channel: CacheEventName) =>
    recorded.filter((event) => event.cache === prefix && event.channel === channel);
  return { map, clock, prefix, cache, orders, events };
}

describe('cache events on node:diagnostics_channel', () => {
  it('uses stable channel names', () => {
    expect(cacheChannels).toEqual({
      hit: 'org-cache:hit',
      miss: 'org-cache:miss',
      staleHit: 'org-cache:stale-hit',
      softTimeout: 'org-cache:soft-timeout',
      refresh: 'org-cache:refresh',
      fetch: 'org-cache:fetch',
      fetchError: 'org-cache:fetch-error',
      invalidate: 'org-cache:invalidate',
      storeError: 'org-cache:store-error',
      corruptEntry: 'org-cache:corrupt-entry',
    });
  });

  it('publishes hit and miss for plain reads, with the default bucket label', async () => {
    const { prefix, cache, events } = setup();
    await cache.get('k');
    await cache.set('k', 1);
    await cache.get('k');
    expect(events('miss')).toEqual([
      { channel: 'miss', cache: prefix, domain: undefined, bucket: 'default', key: `${prefix}:k` },
    ]);
    expect(events('hit')).toEqual([
      { channel: 'hit', cache: prefix, domain: undefined, bucket: 'default', key: `${prefix}:k` },
    ]);
  });

  it('labels bucket reads with their domain and bucket', async () => {
    const { prefix, orders, events } = setup();
    await orders.buckets.summaries.get('acc1');
    await orders.buckets.summaries.set('acc1', []);
    await orders.buckets.summaries.get('acc1');
    const labels = {
      cache: prefix,
      domain: 'orders',
      bucket: 'summaries',
      key: `${prefix}:orders:summaries:acc1`,
    };
    expect(events('miss')).toEqual([{ channel: 'miss', ...labels }]);
    expect(events('hit')).toEqual([{ channel: 'hit', ...labels }]);
  });

  it('publishes a hit or miss event for every hit or miss stats() counts, getOrSet included', async () => {
    const { cache, orders, events } = setup();
    await orders.buckets.summaries.getOrSet('acc1', () => [1]); // miss
    await orders.buckets.summaries.getOrSet('acc1', () => [2]); // hit
    await cache.getOrSet('k', () => 1); // miss
    await cache.getOrSet('k', () => 2); // hit
    await cache.get('k'); // hit
    const stats = cache.stats().totals;
    expect(stats.hits).toBe(3);
    expect(stats.misses).toBe(2);
    expect(events('hit')).toHaveLength(stats.hits);
    expect(events('miss')).toHaveLength(stats.misses);
    expect(events('miss').map((event) => event.bucket)).toEqual(['summaries', 'default']);
  });

  it('publishes fetch with its duration, and fetch-error with the error', async () => {
    const { prefix, orders, events } = setup();
    await orders.buckets.summaries.getOrSet('acc1', () => [1]);
    const failure = new Error('salesforce is down');
    await expect(
      orders.buckets.summaries.getOrSet('acc2', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    const fetches = events('fetch');
    expect(fetches).toHaveLength(2);
    expect(fetches[0]).toMatchObject({
      cache: prefix,
      domain: 'orders',
      bucket: 'summaries',
      key: `${prefix}:orders:summaries:acc1`,
    });
    for (const event of fetches) {
      expect(typeof event.durationMs).toBe('number');
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
    const errors = events('fetchError');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      domain: 'orders',
      bucket: 'summaries',
      key: `${prefix}:orders:summaries:acc2`,
      error: failure,
    });
    expect(typeof errors[0]?.durationMs).toBe('number');
  });

  it('publishes stale-hit when an entry inside its grace window is served', async () => {
    const { prefix, clock, cache, events } = setup();
    await cache.getOrSet('k', () => 'old');
    clock.advance(90_000);
    expect(
      await cache.getOrSet('k', () => {
        throw new Error('down');
      }),
    ).toBe('old');
    expect(events('staleHit')).toHaveLength(1);
    expect(events('staleHit')[0]).toMatchObject({ domain: undefined, bucket: 'default', key: `${prefix}:k` });
  });

  it('publishes invalidate with its kind: key, keys, tags, pattern, bucket', async () => {
    const { prefix, cache, orders, events } = setup();
    await cache.set('a', 1);
    await cache.delete('a');
    await cache.deleteMany(['b', 'c']);
    await cache.invalidateTags(['product:A', 'product:B']);
    await cache.deleteByPattern('orders:*');
    await orders.buckets.summaries.invalidate('acc1');
    await orders.buckets.summaries.invalidateAll();
    await orders.invalidateTags(['account:1']);

    const invalidations = events('invalidate');
    expect(invalidations.map((event) => event.kind)).toEqual([
      'key',
      'keys',
      'tags',
      'pattern',
      'key',
      'bucket',
      'tags',
    ]);
    expect(invalidations[0]).toMatchObject({ domain: undefined, bucket: 'default', key: `${prefix}:a` });
    expect(invalidations[2]).toMatchObject({ tags: ['product:A', 'product:B'] });
    expect(invalidations[3]).toMatchObject({ pattern: 'orders:*' });
    expect(invalidations[4]).toMatchObject({ domain: 'orders', bucket: 'summaries' });
    expect(invalidations[5]).toMatchObject({ domain: 'orders', bucket: 'summaries' });
    expect(invalidations[6]).toMatchObject({ domain: 'orders', tags: ['account:1'] });
  });

  it('publishes corrupt-entry with its labels when an entry cannot be read', async () => {
    const { map, prefix, cache, orders, events } = setup();
    map.set(`${prefix}:orders:summaries:acc1`, 'not json');
    map.set(`${prefix}:plain`, '{"v":2}');
    expect(await orders.buckets.summaries.get('acc1')).toBeUndefined();
    expect(await cache.get('plain')).toBeUndefined();
    expect(events('corruptEntry')).toEqual([
      {
        channel: 'corruptEntry',
        cache: prefix,
        domain: 'orders',
        bucket: 'summaries',
        key: `${prefix}:orders:summaries:acc1`,
      },
      {
        channel: 'corruptEntry',
        cache: prefix,
        domain: undefined,
        bucket: 'default',
        key: `${prefix}:plain`,
      },
    ]);
  });

  it('publishes store-error when the store fails', async () => {
    const failing = {
      opts: {},
      get: async () => {
        throw new Error('connection reset');
      },
      set: async () => true,
      delete: async () => true,
      clear: async () => {},
    } as unknown as CacheStore;
    const cache = createCache({ store: failing, prefix: 'ev-failing' });
    open.push(cache);
    expect(await cache.getOrSet('k', () => 'from fetcher')).toBe('from fetcher');
    const errors = recorded.filter((event) => event.cache === 'ev-failing' && event.channel === 'storeError');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]?.error).toMatchObject({ code: 'E_STORE_ERROR' });
  });

  it('labels store-error with the domain and bucket of the failed call, once per failure', async () => {
    const failing = {
      opts: {},
      get: async () => {
        throw new Error('connection reset');
      },
      set: async () => {
        throw new Error('connection reset');
      },
      delete: async () => true,
      clear: async () => {},
    } as unknown as CacheStore;
    const cache = createCache({ store: failing, prefix: 'ev-labels', breaker: { failureThreshold: 100 } });
    open.push(cache);
    const orders = cache.domain('orders', { buckets: { summaries: {} } });
    expect(await orders.buckets.summaries.get('acc1')).toBeUndefined();
    await orders.buckets.summaries.set('acc1', [1]);
    const errors = recorded.filter((event) => event.cache === 'ev-labels' && event.channel === 'storeError');
    expect(orders.stats().metrics.summaries).toMatchObject({ storeErrors: 2, droppedWrites: 1 });
    expect(errors).toHaveLength(2);
    for (const event of errors) expect(event).toMatchObject({ domain: 'orders', bucket: 'summaries' });
  });

  it('stops delivering after unsubscribe', async () => {
    const { cache, events } = setup();
    await cache.get('k');
    expect(events('miss')).toHaveLength(1);
    unsubscribeAll();
    await cache.get('k');
    await cache.set('k', 1);
    await cache.get('k');
    expect(events('miss')).toHaveLength(1);
    expect(events('hit')).toHaveLength(0);
    expect(diagnosticsChannel.channel(cacheChannels.miss).hasSubscribers).toBe(false);
  });
});
