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
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { manualClock } from './support/helpers.js';
import { deferred, faultyStore } from './support/stores.js';

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
function setup(store: Map<string, unknown> | CacheStore = new Map<string, unknown>()) {
  const map = store instanceof Map ? store : (store as CacheStore & { map: Map<string, unknown> }).map;
  const clock = manualClock();
  const prefix = `ev${++sequence}`;
  const cache = createCache({ store, prefix, clock, strategy: ttl('1m'), grace: '1m' });
  open.push(cache);
  const orders = cache.domain('orders', { buckets: { summaries: {} } });
  const events = (channel: CacheEventName) =>
    recorded.filter((event) => event.cache === prefix && event.channel === channel);
  return { map, clock, prefix, cache, orders, events };
}

/**
 * One user action per channel, each on the `orders.summaries` bucket's id `acc1`. Typed as a
 * Record over the channel names, and iterated from `cacheChannels` below: a channel added to core
 * without a scenario here fails the typecheck and the test.
 */
const scenarios: Record<CacheEventName, () => Promise<ReturnType<typeof setup>>> = {
  async hit() {
    const context = setup();
    await context.orders.buckets.summaries.set('acc1', [1]);
    await context.orders.buckets.summaries.get('acc1');
    return context;
  },
  async miss() {
    const context = setup();
    await context.orders.buckets.summaries.get('acc1');
    return context;
  },
  async staleHit() {
    const context = setup();
    await context.orders.buckets.summaries.set('acc1', [1]);
    context.clock.advance(90_000); // past the 1 m ttl, inside the 1 m grace
    await context.orders.buckets.summaries.getOrSet('acc1', () => {
      throw new Error('down');
    });
    return context;
  },
  async softTimeout() {
    const context = setup();
    await context.orders.buckets.summaries.set('acc1', [1]);
    context.clock.advance(61_000); // stale, inside grace
    const upstream = deferred<number[]>();
    // The caller gets the stale value once the fetch has run 20 ms (a real timer: the feature is one).
    const answer = await context.orders.buckets.summaries.getOrSet('acc1', () => upstream.promise, {
      softTimeout: 20,
      fetchTimeout: '1m',
    });
    expect(answer).toEqual([1]);
    upstream.resolve([2]);
    return context;
  },
  async refresh() {
    const context = setup();
    await context.orders.buckets.summaries.getOrSet('acc1', () => [1]);
    context.clock.advance(40_000); // past half of the 1 m fresh window
    await context.orders.buckets.summaries.getOrSet('acc1', () => [2], { eagerRefresh: 0.5 });
    // Published when the background refresh ends: a few promise turns on a Map store, no timer.
    await vi.waitFor(() => expect(context.events('refresh')).toHaveLength(1), { timeout: 5_000 });
    return context;
  },
  async fetch() {
    const context = setup();
    await context.orders.buckets.summaries.getOrSet('acc1', () => [1]);
    return context;
  },
  async fetchError() {
    const context = setup();
    await context.orders.buckets.summaries
      .getOrSet('acc1', () => {
        throw new Error('salesforce is down');
      })
      .catch(() => {});
    return context;
  },
  async invalidate() {
    const context = setup();
    await context.orders.buckets.summaries.invalidate('acc1');
    return context;
  },
  async storeError() {
    const store = faultyStore();
    const context = setup(store);
    store.mode = 'fail';
    await context.orders.buckets.summaries.get('acc1');
    return context;
  },
  async corruptEntry() {
    const context = setup();
    context.map.set(`${context.prefix}:orders:summaries:acc1`, 'not json');
    await context.orders.buckets.summaries.get('acc1');
    return context;
  },
};

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

  it('has a scenario for exactly the channels core exports', () => {
    expect(Object.keys(scenarios).sort()).toEqual(Object.keys(cacheChannels).sort());
  });

  it.each(Object.keys(cacheChannels) as CacheEventName[])(
    'publishes on %s from a user action, labelled with the cache, domain, bucket and key',
    async (name) => {
      const scenario = scenarios[name];
      expect(scenario, `no scenario publishes on cacheChannels.${name}`).toBeTypeOf('function');
      const { prefix, events } = await scenario();
      const published = events(name);
      expect(published.length).toBeGreaterThanOrEqual(1);
      for (const event of published) {
        expect(event).toMatchObject({
          channel: name,
          cache: prefix,
          domain: 'orders',
          bucket: 'summaries',
          key: `${prefix}:orders:summaries:acc1`,
        });
      }
    },
  );

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
