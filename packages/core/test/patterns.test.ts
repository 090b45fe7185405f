import { type Cache, type CacheStore, createCache, escapeGlob, isCacheError } from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventLoopTurnsDuring } from './support/helpers.js';

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function cacheOn(store: CacheStore | Map<string, unknown>, prefix: string): Cache {
  const cache = createCache({ store, prefix });
  open.push(cache);
  return cache;
}

async function scanAll(cache: Cache, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.scan(pattern)) keys.push(key);
  return keys.sort();
}

async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** A keyv-shaped adapter: get/set/delete/clear, and an iterator only when asked. */
function keyvShaped(withIterator: boolean): CacheStore {
  const map = new Map<string, unknown>();
  const store: Record<string, unknown> = {
    opts: {},
    get: async (key: string) => map.get(key),
    set: async (key: string, value: unknown) => {
      map.set(key, value);
      return true;
    },
    delete: async (key: string) => map.delete(key),
    clear: async () => map.clear(),
  };
  if (withIterator) {
    store.iterator = async function* () {
      for (const entry of [...map.entries()]) yield entry;
    };
  }
  return store as unknown as CacheStore;
}

describe('pattern operations', () => {
  it('scan yields matching keys without the prefix, across colons and unicode', async () => {
    const cache = cacheOn(new Map(), 'bff');
    const keys = [
      'orders:acc1:jp',
      'orders:acc1:fr',
      'orders:acc2:jp',
      'catalog:東京:1',
      'catalog:zoë:2',
      'solo',
    ];
    for (const key of keys) await cache.set(key, key);
    expect(await scanAll(cache, '*')).toEqual([...keys].sort());
    expect(await scanAll(cache, 'orders:*')).toEqual(['orders:acc1:fr', 'orders:acc1:jp', 'orders:acc2:jp']);
    expect(await scanAll(cache, 'orders:*:jp')).toEqual(['orders:acc1:jp', 'orders:acc2:jp']);
    expect(await scanAll(cache, 'orders:acc[12]:fr')).toEqual(['orders:acc1:fr']);
    expect(await scanAll(cache, 'orders:acc?:jp')).toEqual(['orders:acc1:jp', 'orders:acc2:jp']);
    expect(await scanAll(cache, 'catalog:東京:*')).toEqual(['catalog:東京:1']);
    expect(await scanAll(cache, 'catalog:zoë:*')).toEqual(['catalog:zoë:2']);
    expect(await scanAll(cache, 'nothing:*')).toEqual([]);
    expect(await cache.countByPattern('orders:*')).toBe(3);
    expect(await cache.countByPattern('catalog:*')).toBe(2);
  });

  // A pattern that made a compiled RegExp backtrack for seconds a key, over enough keys that even
  // linear matching takes many slices: other callers must get turns meanwhile. EventLoopTurns
  // yields once 8 ms of walking have passed, so a walk of 40 ms or more has yielded at least twice
  // on any machine; how many keys that takes depends on the machine, so the keys are doubled until
  // one count lasts that long (20,000 keys finished inside one slice on a quiet CI machine).
  it('matches a backtracking-prone pattern without blocking the event loop', async () => {
    const cache = cacheOn(new Map(), 'bff');
    const filler = 'a'.repeat(30);
    const pattern = `${'*a'.repeat(14)}*b`;
    let keys = 0;
    let counted: Awaited<ReturnType<typeof eventLoopTurnsDuring<number>>> | undefined;
    for (let target = 20_000; target <= 1_280_000 && (counted?.ms ?? 0) < 40; target *= 2) {
      await cache.setMany(
        Array.from({ length: target - keys }, (_, index) => ({
          key: `redos:${filler}${keys + index}`,
          value: 1,
        })),
      );
      keys = target;
      counted = await eventLoopTurnsDuring(() => cache.countByPattern(pattern));
      expect(counted.result).toBe(0);
    }
    const summary = `${keys} keys counted in ${counted?.ms.toFixed(0)} ms`;
    expect(counted?.ms, summary).toBeGreaterThanOrEqual(40);
    expect(counted?.turns, summary).toBeGreaterThanOrEqual(2);
    const deleted = await eventLoopTurnsDuring(() => cache.deleteByPattern(`redos:${'*a'.repeat(14)}*1`));
    expect(deleted.result).toBeGreaterThan(0);
    // The same walk over the same keys: two turns whenever it lasted as long.
    expect(deleted.turns, `deleted in ${deleted.ms.toFixed(0)} ms`).toBeGreaterThanOrEqual(
      deleted.ms >= 40 ? 2 : 1,
    );
  });

  it('counts and deletes more keys than one scan batch', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.setMany(Array.from({ length: 450 }, (_, index) => ({ key: `bulk:${index}`, value: index })));
    await cache.set('other:1', 1);
    expect(await cache.countByPattern('bulk:*')).toBe(450);
    expect((await scanAll(cache, 'bulk:*')).length).toBe(450);
    expect(await cache.deleteByPattern('bulk:*')).toBe(450);
    expect(await cache.countByPattern('bulk:*')).toBe(0);
    expect(await cache.get('other:1')).toBe(1);
  });

  it('deleteByPattern deletes what matches, resolves to how many, and leaves the rest', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.set('orders:account:1:a', 1);
    await cache.set('orders:account:1:b', 2);
    await cache.set('orders:account:2:a', 3);
    await cache.set('orders:detail:1', 4);
    expect(await cache.deleteByPattern('orders:account:1:*')).toBe(2);
    expect(await cache.get('orders:account:1:a')).toBeUndefined();
    expect(await cache.get('orders:account:1:b')).toBeUndefined();
    expect(await cache.get('orders:account:2:a')).toBe(3);
    expect(await cache.get('orders:detail:1')).toBe(4);
    expect(await cache.deleteByPattern('orders:account:1:*')).toBe(0);
  });

  it('treats glob characters in an escaped id as data: deletes `a*b` only, not `aXb`', async () => {
    const cache = cacheOn(new Map(), 'bff');
    const ids = ['a*b', 'aXb', 'a?b', 'a[b]', 'ab', 'a\\b', 'a*b*c'];
    for (const id of ids) await cache.set(`x:${id}`, id);
    expect(await cache.countByPattern(`x:${escapeGlob('a*b')}`)).toBe(1);
    expect(await scanAll(cache, `x:${escapeGlob('a*b')}`)).toEqual(['x:a*b']);
    expect(await cache.deleteByPattern(`x:${escapeGlob('a*b')}`)).toBe(1);
    expect(await cache.get('x:a*b')).toBeUndefined();
    for (const id of ids.filter((id) => id !== 'a*b')) expect(await cache.get(`x:${id}`)).toBe(id);

    expect(await cache.deleteByPattern(`x:${escapeGlob('a?b')}`)).toBe(1);
    expect(await cache.get('x:aXb')).toBe('aXb');
    expect(await cache.deleteByPattern(`x:${escapeGlob('a[b]')}`)).toBe(1);
    expect(await cache.deleteByPattern(`x:${escapeGlob('a\\b')}`)).toBe(1);
    expect(await scanAll(cache, 'x:*')).toEqual(['x:a*b*c', 'x:aXb', 'x:ab']);
    // An escaped id followed by a real wildcard: the id's own `*` is still literal.
    expect(await cache.countByPattern(`x:${escapeGlob('a*b')}*`)).toBe(1);
  });

  it('memoryUsageByPattern is the sum over the matching entries', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.set('orders:1', { lines: 'x'.repeat(1_000) });
    await cache.set('orders:2', { lines: 'y'.repeat(10) });
    await cache.set('catalog:1', 'z'.repeat(5_000));
    const one = await cache.memoryUsageByPattern('orders:1');
    const two = await cache.memoryUsageByPattern('orders:2');
    const orders = await cache.memoryUsageByPattern('orders:*');
    const catalog = await cache.memoryUsageByPattern('catalog:*');
    expect(one).toBeGreaterThan(1_000);
    expect(two).toBeGreaterThan(0);
    expect(one).toBeGreaterThan(two);
    expect(orders).toBe(one + two);
    expect(catalog).toBeGreaterThan(5_000);
    expect(await cache.memoryUsageByPattern('*')).toBe(orders + catalog);
    expect(await cache.memoryUsageByPattern('nothing:*')).toBe(0);
  });

  it('measures unicode values in bytes, not characters', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.set('ascii', 'a'.repeat(1_000));
    await cache.set('wide', '東'.repeat(1_000));
    const ascii = await cache.memoryUsageByPattern('ascii');
    const wide = await cache.memoryUsageByPattern('wide');
    expect(wide - ascii).toBeGreaterThanOrEqual(2_000 - 10);
  });
});

describe('prefix isolation on one store', () => {
  it("keeps 'bff' and 'bffx' apart: scan, count, delete and memory usage", async () => {
    const map = new Map<string, unknown>();
    const bff = cacheOn(map, 'bff');
    const bffx = cacheOn(map, 'bffx');
    await bff.set('orders:1', 'bff');
    await bffx.set('orders:1', 'bffx');
    await bffx.set('orders:2', 'bffx');
    expect(await scanAll(bff, '*')).toEqual(['orders:1']);
    expect(await scanAll(bffx, '*')).toEqual(['orders:1', 'orders:2']);
    expect(await bff.countByPattern('*')).toBe(1);
    expect(await bffx.countByPattern('orders:*')).toBe(2);
    const bffUsage = await bff.memoryUsageByPattern('*');
    expect(bffUsage).toBe(await bff.memoryUsageByPattern('orders:1'));
    expect(await bff.deleteByPattern('*')).toBe(1);
    expect(await bffx.get('orders:1')).toBe('bffx');
    expect(await bffx.get('orders:2')).toBe('bffx');
    expect(await bffx.deleteByPattern('orders:*')).toBe(2);
    expect(map.size).toBe(0);
  });

  it('refuses prefixes a glob or a hash tag could misread, so a cache `b?` can never reach `bx`', () => {
    const map = new Map<string, unknown>();
    for (const prefix of ['b?', 'b*', 'b[x]', 'b\\x', 'b{x}', 'bff:tenant', 'bff tenant', '', 'é']) {
      expect(() => cacheOn(map, prefix), prefix).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
    }
    for (const prefix of ['bff', 'bff-v2', 'bff_2.1', 'BFF'])
      expect(cacheOn(map, prefix).prefix).toBe(prefix);
  });

  it("keeps nested prefixes apart ('bff' and 'bff:tenant'), or refuses the colon in a prefix", async () => {
    const map = new Map<string, unknown>();
    const outer = cacheOn(map, 'bff');
    let inner: Cache;
    try {
      inner = cacheOn(map, 'bff:tenant');
    } catch (error) {
      expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      return;
    }
    await inner.set('secret', 'tenant data');
    // Another cache's entry must be neither readable nor visible from this one.
    expect(await outer.get('tenant:secret')).toBeUndefined();
    expect(await scanAll(outer, '*')).toEqual([]);
    expect(await outer.deleteByPattern('*')).toBe(0);
    expect(await inner.get('secret')).toBe('tenant data');
  });
});

describe('internal keys are invisible to pattern operations', () => {
  it('never shows tag versions in scan, count, delete or memory usage', async () => {
    const map = new Map<string, unknown>();
    const cache = cacheOn(map, 'bff');
    await cache.set('orders:1', 'a');
    await cache.set('orders:2', 'b');
    const usageBefore = await cache.memoryUsageByPattern('*');

    await cache.set('tagged:1', 'c', { tags: ['account:1', 'product:A'] });
    await cache.invalidateTags(['account:2', 'tag:x']);
    await cache.getOrSet('tagged:2', () => 'd', { tags: (value) => [`derived:${value}`] });
    const internal = [...map.keys()].filter((key) => key.startsWith('bff::'));
    expect(internal.length).toBeGreaterThanOrEqual(4);

    expect(await scanAll(cache, '*')).toEqual(['orders:1', 'orders:2', 'tagged:1', 'tagged:2']);
    expect(await scanAll(cache, '*tag*')).toEqual(['tagged:1', 'tagged:2']);
    expect(await scanAll(cache, ':*')).toEqual([]);
    expect(await scanAll(cache, '*account*')).toEqual([]);
    expect(await cache.countByPattern('*')).toBe(4);
    expect(await cache.countByPattern('*:*')).toBe(4);
    expect(await cache.memoryUsageByPattern('orders:*')).toBe(usageBefore);

    expect(await cache.deleteByPattern('*')).toBe(4);
    expect(await cache.countByPattern('*')).toBe(0);
    // The tag versions survive: dependency tracking still works after a pattern delete.
    expect([...map.keys()].sort()).toEqual(internal.sort());
    await cache.set('tagged:3', 'e', { tags: ['account:1'] });
    await cache.invalidateTags(['account:1']);
    expect(await cache.get('tagged:3')).toBeUndefined();
  });

  it('never shows the health probe key', async () => {
    const map = new Map<string, unknown>();
    const cache = cacheOn(map, 'bff');
    await cache.health();
    await cache.set('k', 1);
    expect(await scanAll(cache, '*')).toEqual(['k']);
  });
});

describe('deleteByPattern progress', () => {
  it('reports the running total after each deleted batch, ending at the result', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.setMany(Array.from({ length: 450 }, (_, index) => ({ key: `bulk:${index}`, value: index })));
    await cache.set('other:1', 1);
    const reported: number[] = [];
    const deleted = await cache.deleteByPattern('bulk:*', { onProgress: (count) => reported.push(count) });
    expect(deleted).toBe(450);
    // The Map store scans in batches of 200: the first report comes before the delete is over.
    expect(reported.length).toBeGreaterThan(1);
    expect(reported.at(-1)).toBe(450);
    expect(reported).toEqual([...reported].sort((a, b) => a - b));
    expect(await cache.get('other:1')).toBe(1);
  });

  it('refuses an onProgress that is not a function before deleting anything', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.set('bulk:1', 1);
    const options = { onProgress: 'yes' } as unknown as { onProgress: (deleted: number) => void };
    await expect(cache.deleteByPattern('bulk:*', options)).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    expect(await cache.get('bulk:1')).toBe(1);
    expect(cache.stats().buckets.default?.invalidations ?? 0).toBe(0);
  });
});

describe('a store failing during a pattern read', () => {
  it('makes scan and countByPattern reject, never answer a short count', async () => {
    const store = keyvShaped(true);
    const cache = cacheOn(store, 'bff');
    await cache.set('orders:1', 1);
    await cache.set('orders:2', 2);
    expect(await cache.countByPattern('orders:*')).toBe(2);
    (store as unknown as { get: () => Promise<never> }).get = async () => {
      throw new Error('connection reset');
    };
    const counted = await rejectionOf(() => cache.countByPattern('orders:*'));
    expect(isCacheError(counted)).toBe(true);
    expect(String((counted as Error).message)).toContain('connection reset');
    await expect(scanAll(cache, 'orders:*')).rejects.toMatchObject({
      code: expect.stringMatching(/^E_STORE_/),
    });
  });
});

describe('invalid patterns and unsupported stores', () => {
  const invalid: Array<[string, unknown]> = [
    ['an empty pattern', ''],
    ['an unterminated class', 'orders:[abc'],
    ['a lone trailing backslash', 'orders\\'],
    ['a control character', 'orders:\u0000*'],
    ['a newline', 'orders\n*'],
    ['a non-string', 42],
    ['a pattern over the key limit', `${'x'.repeat(2_100)}*`],
  ];

  it.each(invalid)('rejects %s with E_INVALID_PATTERN in every pattern operation', async (_, pattern) => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.set('orders:1', 1);
    for (const run of [
      () => scanAll(cache, pattern as string),
      () => cache.countByPattern(pattern as string),
      () => cache.deleteByPattern(pattern as string),
      () => cache.memoryUsageByPattern(pattern as string),
    ]) {
      const error = await rejectionOf(run);
      expect(isCacheError(error, 'E_INVALID_PATTERN')).toBe(true);
    }
    expect(await cache.get('orders:1')).toBe(1);
  });

  it('does not count a refused deleteByPattern as an invalidation', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await expect(cache.deleteByPattern('[')).rejects.toMatchObject({ code: 'E_INVALID_PATTERN' });
    expect(cache.stats().buckets.default?.invalidations ?? 0).toBe(0);
  });

  it('answers a reversed range with a result or a typed error, never a SyntaxError', async () => {
    const cache = cacheOn(new Map(), 'bff');
    await cache.set('m', 1);
    try {
      expect(await cache.countByPattern('[z-a]')).toBe(1);
    } catch (error) {
      expect(isCacheError(error, 'E_INVALID_PATTERN')).toBe(true);
    }
  });

  it('rejects E_UNSUPPORTED on a keyv adapter with neither scan capability nor iterator', async () => {
    const cache = cacheOn(keyvShaped(false), 'bff');
    await cache.set('orders:1', { id: 1 });
    expect(await cache.get('orders:1')).toEqual({ id: 1 });
    for (const run of [
      () => scanAll(cache, '*'),
      () => cache.countByPattern('*'),
      () => cache.deleteByPattern('*'),
      () => cache.memoryUsageByPattern('*'),
    ]) {
      const error = await rejectionOf(run);
      expect(isCacheError(error, 'E_UNSUPPORTED')).toBe(true);
    }
    expect(await cache.get('orders:1')).toEqual({ id: 1 });
  });

  it('falls back to the adapter iterator when there is one, keeping prefixes apart', async () => {
    const store = keyvShaped(true);
    const cache = cacheOn(store, 'bff');
    const other = cacheOn(store, 'bffx');
    await cache.set('orders:1', 1);
    await cache.set('orders:2', 2, { tags: ['t'] });
    await other.set('orders:1', 'other');
    expect(await scanAll(cache, 'orders:*')).toEqual(['orders:1', 'orders:2']);
    expect(await cache.countByPattern('*')).toBe(2);
    expect(await cache.memoryUsageByPattern('orders:1')).toBeGreaterThan(0);
    expect(await cache.deleteByPattern('orders:*')).toBe(2);
    expect(await cache.get('orders:1')).toBeUndefined();
    expect(await other.get('orders:1')).toBe('other');
  });
});
