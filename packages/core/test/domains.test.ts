import { type Cache, createCache, eventDriven, hybrid, isCacheError, ttl } from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { manualClock, thrownBy } from './support/helpers.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const orderSummary = z.object({ id: z.string(), total: z.number() });
const orderDetail = z.object({
  id: z.string(),
  lines: z.array(z.object({ sku: z.string(), qty: z.number().int() })),
});

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function setup() {
  const map = new Map<string, unknown>();
  const clock = manualClock();
  const cache = createCache({ store: map, prefix: 'bff', clock, strategy: ttl('5m') });
  open.push(cache);
  const orders = cache.domain('orders', {
    strategy: eventDriven({ safetyTtl: '12h' }),
    buckets: {
      summaries: { schema: z.array(orderSummary) },
      detail: { schema: orderDetail, strategy: hybrid({ ttl: '60s' }) },
      notes: {},
    },
  });
  return { map, clock, cache, orders };
}

describe('domain keys', () => {
  it('maps ids to `domain:bucket:id` and array ids to subkeys', async () => {
    const { map, cache, orders } = setup();
    const notes = orders.buckets.notes;
    expect(notes.key('acc_001')).toBe('orders:notes:acc_001');
    expect(notes.key(42)).toBe('orders:notes:42');
    expect(notes.key(['acc_001', 'jp'])).toBe('orders:notes:acc_001:jp');
    expect(notes.key(['acc_001', 7, 'x'])).toBe('orders:notes:acc_001:7:x');

    await notes.set(['acc_001', 'jp'], 'konnichiwa');
    await notes.set('acc_001', 'hello');
    expect(map.has('bff:orders:notes:acc_001:jp')).toBe(true);
    expect(await notes.get(['acc_001', 'jp'])).toBe('konnichiwa');
    expect(await notes.get('acc_001')).toBe('hello');
    // The same entry, seen through the plain API.
    expect(await cache.get('orders:notes:acc_001:jp')).toBe('konnichiwa');
    expect(await notes.get(['acc_001', 'fr'])).toBeUndefined();
  });

  it('refuses bad ids as rejections (and synchronously from key())', async () => {
    const { orders } = setup();
    const notes = orders.buckets.notes;
    for (const id of [[], '', ['a', ''], 'a\nb', Number.NaN, ['a', {}], ':x', 'x'.repeat(2_100)]) {
      await expect(notes.get(id as never)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(notes.set(id as never, 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(notes.getOrSet(id as never, () => 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(notes.invalidate(id as never)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      expect(
        isCacheError(
          thrownBy(() => notes.key(id as never)),
          'E_INVALID_KEY',
        ),
      ).toBe(true);
    }
  });
});

describe('strategies per bucket, domain and cache', () => {
  it('lets a bucket override its domain, and a domain override its cache', async () => {
    const { clock, cache, orders } = setup();
    const plain = cache.domain('plain', { buckets: { items: {} } });
    const forever = cache.domain('forever', {
      strategy: eventDriven({ safetyTtl: 0 }),
      buckets: { items: {}, short: { strategy: ttl('1s') } },
    });
    await orders.buckets.notes.set('n', 'domain 12h');
    await orders.buckets.detail.set('d', { id: 'd', lines: [] });
    await plain.buckets.items.set('p', 'cache 5m');
    await forever.buckets.items.set('f', 'never');
    await forever.buckets.short.set('s', 'one second');

    expect(orders.stats().ttl).toEqual({ summaries: 12 * 3600, detail: 60, notes: 12 * 3600 });
    expect(plain.stats().ttl).toEqual({ items: 300 });
    expect(forever.stats().ttl).toEqual({ items: null, short: 1 });

    clock.advance(SECOND);
    expect(await forever.buckets.short.get('s')).toBeUndefined();
    clock.advance(59 * SECOND);
    expect(await orders.buckets.detail.get('d')).toBeUndefined();
    expect(await plain.buckets.items.get('p')).toBe('cache 5m');
    clock.advance(4 * MINUTE);
    expect(await plain.buckets.items.get('p')).toBeUndefined();
    expect(await orders.buckets.notes.get('n')).toBe('domain 12h');
    clock.advance(12 * HOUR);
    expect(await orders.buckets.notes.get('n')).toBeUndefined();
    clock.advance(10 * 365 * 24 * HOUR);
    expect(await forever.buckets.items.get('f')).toBe('never');
  });

  it('takes a per-call ttl on a bucket', async () => {
    const { clock, orders } = setup();
    await orders.buckets.notes.set('n', 'short', { ttl: '10s' });
    await orders.buckets.notes.getOrSet('m', () => 'short too', { ttl: '10s' });
    clock.advance(10 * SECOND);
    expect(await orders.buckets.notes.get('n')).toBeUndefined();
    expect(await orders.buckets.notes.get('m')).toBeUndefined();
  });
});

describe('bucket schemas', () => {
  it('strips unknown fields on the way in (set and getOrSet), so they are never stored', async () => {
    const { map, orders } = setup();
    const { summaries, detail } = orders.buckets;
    await summaries.set('acc1', [{ id: 'o1', total: 10, secret: 'ssn' } as never]);
    expect(await summaries.get('acc1')).toStrictEqual([{ id: 'o1', total: 10 }]);
    expect(map.get('bff:orders:summaries:acc1')).not.toContain('secret');

    const fetched = await detail.getOrSet('o1', () => ({
      id: 'o1',
      lines: [{ sku: 'A', qty: 1, internal: true }],
      debug: 'x',
    }));
    expect(fetched).toStrictEqual({ id: 'o1', lines: [{ sku: 'A', qty: 1 }] });
    expect(map.get('bff:orders:detail:o1')).not.toMatch(/internal|debug/);
    expect(await detail.get('o1')).toStrictEqual({ id: 'o1', lines: [{ sku: 'A', qty: 1 }] });
  });

  it('strips unknown fields on the way out, from an entry another writer stored', async () => {
    const { cache, orders } = setup();
    await cache.set('orders:summaries:acc1', [{ id: 'o1', total: 10, addedLater: true }]);
    expect(await orders.buckets.summaries.get('acc1')).toStrictEqual([{ id: 'o1', total: 10 }]);
    expect(orders.stats().metrics.summaries).toMatchObject({ hits: 1, corruptEntries: 0 });
  });

  it('treats an entry that no longer parses as a counted miss, replaced by the next getOrSet', async () => {
    const { map, clock, orders } = setup();
    // An older version of the service, same store and prefix, no schema: it wrote another shape.
    const old = createCache({ store: map, prefix: 'bff', clock });
    open.push(old);
    const oldOrders = old.domain('orders', { buckets: { summaries: {} } });
    await oldOrders.buckets.summaries.set('acc1', [{ id: 1, amount: '10' }]);

    const { summaries } = orders.buckets;
    expect(await summaries.get('acc1')).toBeUndefined();
    expect(summaries.stats()).toMatchObject({ misses: 1, corruptEntries: 1, hits: 0 });

    let fetches = 0;
    const fresh = await summaries.getOrSet('acc1', () => {
      fetches++;
      return [{ id: 'o1', total: 10 }];
    });
    expect(fresh).toStrictEqual([{ id: 'o1', total: 10 }]);
    expect(await summaries.get('acc1')).toStrictEqual([{ id: 'o1', total: 10 }]);
    expect(await summaries.getOrSet('acc1', () => [])).toStrictEqual([{ id: 'o1', total: 10 }]);
    expect(fetches).toBe(1);
    const stats = summaries.stats();
    expect(stats.corruptEntries).toBe(2);
    expect(stats.invalidations).toBe(0);
  });

  it('treats corrupt bytes under a bucket key as a counted miss', async () => {
    const { map, cache, orders } = setup();
    map.set('bff:orders:detail:o1', '{"v":1,"value":');
    await cache.set('orders:detail:o2', 'not a detail');
    expect(await orders.buckets.detail.get('o1')).toBeUndefined();
    expect(await orders.buckets.detail.get('o2')).toBeUndefined();
    expect(orders.stats().metrics.detail).toMatchObject({ misses: 2, corruptEntries: 2 });
  });

  it('rejects a fetcher value that does not match the schema with E_INVALID_VALUE and stores nothing', async () => {
    const { map, orders } = setup();
    const { detail } = orders.buckets;
    await expect(detail.getOrSet('o1', () => ({ id: 1 }) as never)).rejects.toMatchObject({
      code: 'E_INVALID_VALUE',
    });
    expect(map.has('bff:orders:detail:o1')).toBe(false);
    expect(detail.stats().fetchErrors).toBe(1);
  });

  it('rejects a set that does not match the schema and keeps the previous entry', async () => {
    const { orders } = setup();
    const { detail } = orders.buckets;
    await detail.set('o1', { id: 'o1', lines: [] });
    await expect(detail.set('o1', { id: 'o1', lines: [{ sku: 'A', qty: 1.5 }] })).rejects.toMatchObject({
      code: 'E_INVALID_VALUE',
    });
    expect(await detail.get('o1')).toStrictEqual({ id: 'o1', lines: [] });
  });
});

describe('invalidation', () => {
  it('invalidate(id) drops one entry and says whether it existed', async () => {
    const { orders } = setup();
    const { notes } = orders.buckets;
    await notes.set('a', 1);
    await notes.set(['a', 'jp'], 2);
    expect(await notes.invalidate('a')).toBe(true);
    expect(await notes.invalidate('a')).toBe(false);
    expect(await notes.get('a')).toBeUndefined();
    expect(await notes.get(['a', 'jp'])).toBe(2);
    expect(await notes.invalidate(['a', 'jp'])).toBe(true);
  });

  it('invalidateAll() drops every entry of its bucket only, and resolves to how many', async () => {
    const { cache, orders } = setup();
    const sum = cache.domain('shop', { buckets: { sum: {}, summary: {} } });
    await sum.buckets.sum.set('1', 1);
    await sum.buckets.sum.set(['2', 'x'], 2);
    await sum.buckets.sum.set('a*b', 3);
    await sum.buckets.summary.set('1', 'other bucket');
    await orders.buckets.notes.set('1', 'other domain');
    await cache.set('shop:sumX', 'plain key');
    expect(await sum.buckets.sum.invalidateAll()).toBe(3);
    expect(await sum.buckets.sum.get('1')).toBeUndefined();
    expect(await sum.buckets.sum.get('a*b')).toBeUndefined();
    expect(await sum.buckets.summary.get('1')).toBe('other bucket');
    expect(await orders.buckets.notes.get('1')).toBe('other domain');
    expect(await cache.get('shop:sumX')).toBe('plain key');
    expect(await sum.buckets.sum.invalidateAll()).toBe(0);
  });

  it('domain invalidateTags misses every dependent entry, in every bucket, and nothing else', async () => {
    const { cache, orders } = setup();
    const { summaries, detail, notes } = orders.buckets;
    await summaries.set('acc1', [{ id: 'o1', total: 1 }], { tags: ['product:A'] });
    await detail.getOrSet('o1', () => ({ id: 'o1', lines: [{ sku: 'A', qty: 1 }] }), {
      tags: (value) => value.lines.map((line) => `product:${line.sku}`),
    });
    await notes.set('n1', 'depends on B', { tags: ['product:B'] });
    await cache.set('plain:1', 'depends on A', { tags: ['product:A'] });
    await orders.invalidateTags(['product:A']);
    expect(await summaries.get('acc1')).toBeUndefined();
    expect(await detail.get('o1')).toBeUndefined();
    expect(await notes.get('n1')).toBe('depends on B');
    // Tags are shared across the whole cache.
    expect(await cache.get('plain:1')).toBeUndefined();
  });
});

describe('domain.stats()', () => {
  it('reports exact per-bucket counts, invalidation operations (not keys) and ttl', async () => {
    const { cache, orders } = setup();
    const { summaries, detail, notes } = orders.buckets;
    await summaries.getOrSet('a', () => [{ id: 'o1', total: 1 }]); // miss + fetch
    await summaries.getOrSet('a', () => []); // hit
    await summaries.get('b'); // miss
    await summaries.set('c', []);
    await summaries.set('d', []);
    await detail.set('1', { id: '1', lines: [] });
    await detail.get('1'); // hit
    await summaries.invalidate('a'); // 1 operation
    await summaries.invalidateAll(); // 1 operation, 2 keys
    await detail.invalidate('missing'); // 1 operation, 0 keys
    await orders.invalidateTags(['t1', 't2']); // 1 operation, domain level
    await cache.invalidateTags(['t3']); // not this domain's
    const other = cache.domain('catalog', { buckets: { products: {} } });
    await other.buckets.products.invalidateAll(); // not this domain's

    const stats = orders.stats();
    expect(stats.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(new Date(stats.timestamp).toISOString()).toBe(stats.timestamp);
    expect(Object.keys(stats.metrics).sort()).toEqual(['detail', 'invalidations', 'notes', 'summaries']);
    expect(stats.metrics.summaries).toMatchObject({
      hits: 1,
      misses: 2,
      fetches: 1,
      fetchErrors: 0,
      staleHits: 0,
      coalesced: 0,
      invalidations: 2,
      corruptEntries: 0,
      storeErrors: 0,
      hitRatio: 0.333,
    });
    expect(stats.metrics.summaries).toHaveProperty('fetchLatency.count', 1);
    expect(stats.metrics.detail).toMatchObject({ hits: 1, misses: 0, fetches: 0, invalidations: 1 });
    expect(stats.metrics.notes).toMatchObject({ hits: 0, misses: 0, invalidations: 0, hitRatio: 0 });
    expect(stats.metrics.invalidations).toBe(4);
    expect(stats.ttl).toEqual({ summaries: 43_200, detail: 60, notes: 43_200 });
    expect(notes.stats()).toEqual(stats.metrics.notes);
    expect(other.stats().metrics.invalidations).toBe(1);
  });

  it('appears in cache.stats() under `domain:bucket`', async () => {
    const { cache, orders } = setup();
    await orders.buckets.notes.get('x');
    await cache.get('y');
    const buckets = cache.stats().buckets;
    expect(buckets['orders:notes']).toMatchObject({ misses: 1 });
    expect(buckets.default).toMatchObject({ misses: 1 });
    expect(cache.stats().totals.misses).toBe(2);
  });
});

describe('domain definition errors', () => {
  it('refuses a duplicate domain name with E_INVALID_OPTION', () => {
    const { cache } = setup();
    const error = thrownBy(() => cache.domain('orders', { buckets: { other: {} } }));
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
  });

  it.each([
    ['a colon in a bucket name', { buckets: { 'a:b': {} } }],
    ['an empty bucket name', { buckets: { '': {} } }],
    ['a bucket named invalidations', { buckets: { invalidations: {} } }],
    // It would become the prototype of the buckets object instead of a bucket.
    ['a bucket named __proto__', { buckets: JSON.parse('{"__proto__": {}}') }],
    ['a space in a bucket name', { buckets: { 'a b': {} } }],
    ['a glob character in a bucket name', { buckets: { 'a*': {} } }],
    ['no buckets', {}],
    ['buckets that are not an object', { buckets: null }],
    ['a bad bucket grace', { buckets: { a: { grace: 'later' } } }],
    ['a bad domain grace', { grace: -1, buckets: { a: {} } }],
  ])('refuses %s with E_INVALID_OPTION', (_, config) => {
    const cache = createCache({ store: new Map(), prefix: 'bff' });
    open.push(cache);
    const error = thrownBy(() => cache.domain('shop', config as never));
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    // A refused definition does not take the name.
    expect(cache.domain('shop', { buckets: { ok: {} } }).buckets.ok.key('1')).toBe('shop:ok:1');
  });

  it.each(['', 'a:b', 'a b', 'invalidations', 'ä', '__proto__'])('refuses the domain name %j', (name) => {
    const cache = createCache({ store: new Map(), prefix: 'bff' });
    open.push(cache);
    expect(
      isCacheError(
        thrownBy(() => cache.domain(name, { buckets: { ok: {} } })),
        'E_INVALID_OPTION',
      ),
    ).toBe(true);
  });
});
