import { type Cache, type CacheStore, createCache, isCacheError } from '@org/cache-core';
import { type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { structuredStore as inProcessStructuredStore } from './support/stores.js';

// What a user observes about values: exact round trips, refusals that leave the previous entry,
// no prototype pollution, no corruption by mutation, and corrupt entries as counted misses.

/** An in-process store that keeps values by reference: core's "structured" path (frozen, no JSON). */
function structuredStore(): { map: Map<string, unknown>; store: CacheStore } {
  const store = inProcessStructuredStore();
  return { map: store.map, store };
}

const kinds = {
  map: () => {
    const map = new Map<string, unknown>();
    return { map, store: map };
  },
  structured: structuredStore,
};

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function cacheOn(store: CacheStore | Map<string, unknown>, prefix = 'vals'): Cache {
  const cache = createCache({ store, prefix });
  open.push(cache);
  return cache;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe.each(Object.entries(kinds))('values on a %s store', (_, make) => {
  const roundTrips: Array<[string, unknown]> = [
    ['zero', 0],
    ['false', false],
    ['empty string', ''],
    ['null', null],
    ['negative float', -12.5],
    ['max safe integer', Number.MAX_SAFE_INTEGER],
    ['empty object', {}],
    ['empty array', []],
    ['unicode', 'zürich — 東京 — 🚀 — \u{1F600}'],
    ['a lone surrogate', 'half \ud800 pair'],
    ['JSON-looking text', '{"v":1,"value":"not an envelope"}'],
    ['nested', { a: [1, { b: [null, false, 0, ''] }], c: { d: { e: 'f' } }, 'key with spaces': true }],
    ['large array', Array.from({ length: 20_000 }, (_, index) => ({ index, even: index % 2 === 0 }))],
  ];

  it.each(roundTrips)('round-trips %s exactly through set/get', async (_, value) => {
    const cache = cacheOn(make().store);
    await cache.set('v:1', value);
    expect(await cache.get('v:1')).toStrictEqual(value);
    expect(await cache.has('v:1')).toBe(true);
  });

  it.each(roundTrips)('round-trips %s exactly through getOrSet, and serves it as a hit', async (_, value) => {
    const cache = cacheOn(make().store);
    let calls = 0;
    const fetcher = () => {
      calls++;
      return value;
    };
    expect(await cache.getOrSet('v:2', fetcher)).toStrictEqual(value);
    expect(await cache.getOrSet('v:2', fetcher)).toStrictEqual(value);
    expect(calls).toBe(1);
    expect(cache.stats().buckets.default?.hits).toBe(1);
  });

  it('refuses set(key, undefined) with E_INVALID_VALUE', async () => {
    const cache = cacheOn(make().store);
    await expect(cache.set('v:u', undefined)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' });
    expect(await cache.has('v:u')).toBe(false);
  });

  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  const unencodable: Array<[string, unknown]> = [
    ['a BigInt', 10n],
    ['a nested BigInt', { amount: 10n }],
    ['a cycle', circular],
    ['a function', () => 1],
    ['a nested function', { run: () => 1 }],
    ['a symbol', Symbol('s')],
    ['a nested symbol', { tag: Symbol('s') }],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a nested -Infinity', [1, Number.NEGATIVE_INFINITY]],
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['an array with an undefined slot', [1, undefined, 3]],
  ];

  it.each(unencodable)('refuses %s with E_INVALID_VALUE and keeps the previous entry', async (_, value) => {
    const cache = cacheOn(make().store);
    await cache.set('v:keep', { version: 1 });
    const error = await rejectionOf(cache.set('v:keep', value));
    expect(isCacheError(error, 'E_INVALID_VALUE')).toBe(true);
    expect(await cache.get('v:keep')).toEqual({ version: 1 });
  });

  it.each(unencodable)('rejects getOrSet whose fetcher returns %s, storing nothing', async (_, value) => {
    const cache = cacheOn(make().store);
    await expect(cache.getOrSet('v:bad', () => value)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' });
    expect(await cache.has('v:bad')).toBe(false);
  });

  it('names where in the value the refused part is', async () => {
    const cache = cacheOn(make().store);
    const error = await rejectionOf(cache.set('v:path', { orders: [{ id: 1 }, { id: 2, total: 10n }] }));
    expect((error as Error).message).toContain('$.orders[1].total is a bigint');
    const nested = await rejectionOf(cache.set('v:path', { list: [[1, new Map()]] }));
    expect((nested as Error).message).toContain('$.list[0][1] is a Map');
  });

  it('copies an object reached twice that is not a cycle, and a null-prototype object', async () => {
    const cache = cacheOn(make().store);
    const shared = { n: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' });
    await cache.set('v:dag', { a: shared, b: [shared, { c: shared }], bare });
    expect(await cache.get('v:dag')).toEqual({
      a: { n: 1 },
      b: [{ n: 1 }, { c: { n: 1 } }],
      bare: { k: 'v' },
    });
  });

  it('stores a Date as its ISO string, as any JSON store would', async () => {
    const cache = cacheOn(make().store);
    const when = new Date('2024-03-01T12:34:56.789Z');
    await cache.set('v:date', { when, list: [when] });
    expect(await cache.get('v:date')).toStrictEqual({
      when: '2024-03-01T12:34:56.789Z',
      list: ['2024-03-01T12:34:56.789Z'],
    });
    expect(await cache.getOrSet('v:date2', () => when)).toBe('2024-03-01T12:34:56.789Z');
  });

  it('calls a toJSON met deep inside a value once, as JSON.stringify does', async () => {
    // The copy first tries a path for plain JSON and starts over when it meets anything else:
    // it must leave the toJSON to the second walk, not call it on both.
    const cache = cacheOn(make().store);
    let calls = 0;
    const money = {
      toJSON: () => {
        calls++;
        return { cents: 999 };
      },
    };
    await cache.set(
      'v:tojson',
      { id: 1, lines: [{ sku: 'A' }, { sku: 'B', price: money }] },
      { tags: ['t'] },
    );
    expect(calls).toBe(1);
    expect(await cache.get('v:tojson')).toStrictEqual({
      id: 1,
      lines: [{ sku: 'A' }, { sku: 'B', price: { cents: 999 } }],
    });
  });

  it('drops properties whose value is undefined, as JSON does', async () => {
    const cache = cacheOn(make().store);
    await cache.set('v:sparse', { a: 1, b: undefined });
    const value = await cache.get<Record<string, unknown>>('v:sparse');
    expect(value).toStrictEqual({ a: 1 });
    expect(value !== undefined && 'b' in value).toBe(false);
  });

  it('drops __proto__ keys on set: no prototype pollution, no smuggled prototype', async () => {
    const cache = cacheOn(make().store);
    const hostile = JSON.parse(
      '{"name":"x","__proto__":{"polluted":1},"nested":{"__proto__":{"polluted":2}}}',
    );
    await cache.set('v:proto', hostile);
    const value = await cache.get<Record<string, Record<string, unknown>>>('v:proto');
    expect(value).toStrictEqual({ name: 'x', nested: {} });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value?.polluted).toBeUndefined();
    expect(value?.nested?.polluted).toBeUndefined();
  });

  it('copies own properties only, as JSON does, with Object.prototype polluted or a class prototype', async () => {
    const cache = cacheOn(make().store);
    class Order {
      id = 7;
    }
    // An enumerable property on a class's prototype: JSON.stringify leaves it out, for...in would not.
    Object.defineProperty(Order.prototype, 'inherited', { value: 'no', enumerable: true });
    Object.defineProperty(Object.prototype, 'injected', {
      value: 'no',
      enumerable: true,
      configurable: true,
    });
    try {
      await cache.set('v:own', { a: 1, nested: { b: [2] }, order: new Order() });
    } finally {
      Reflect.deleteProperty(Object.prototype, 'injected');
    }
    const value = await cache.get<Record<string, Record<string, unknown>>>('v:own');
    expect(value).toStrictEqual({ a: 1, nested: { b: [2] }, order: { id: 7 } });
    expect(Object.hasOwn(value ?? {}, 'injected')).toBe(false);
    expect(Object.hasOwn(value?.nested ?? {}, 'injected')).toBe(false);
    expect(Object.hasOwn(value?.order ?? {}, 'inherited')).toBe(false);
  });

  it('does not let a mutation of the object passed to set change the cached value', async () => {
    const cache = cacheOn(make().store);
    const order = { id: 801, lines: [{ sku: 'A', qty: 1 }] };
    await cache.set('v:order', order);
    order.id = 999;
    order.lines[0] = { sku: 'HACKED', qty: 0 };
    order.lines.push({ sku: 'B', qty: 2 });
    expect(await cache.get('v:order')).toStrictEqual({ id: 801, lines: [{ sku: 'A', qty: 1 }] });
  });

  it('does not let a mutation of the object a fetcher returned change the cached value', async () => {
    const cache = cacheOn(make().store);
    const fetched = { items: [1, 2, 3] };
    await cache.getOrSet('v:fetched', () => fetched);
    fetched.items.push(4);
    expect(await cache.get('v:fetched')).toStrictEqual({ items: [1, 2, 3] });
  });

  it('does not let a caller corrupt the cache by mutating a returned object', async () => {
    const cache = cacheOn(make().store);
    await cache.set('v:returned', { items: [1, 2, 3], meta: { total: 3 } });
    const first = await cache.get<{ items: number[]; meta: { total: number } }>('v:returned');
    try {
      first?.items.push(4);
      if (first) first.meta.total = 4;
    } catch {
      // A frozen value refuses the mutation: that is one correct answer.
    }
    expect(await cache.get('v:returned')).toStrictEqual({ items: [1, 2, 3], meta: { total: 3 } });
    const viaGetOrSet = await cache.getOrSet<{ items: number[] }>('v:returned', () => ({ items: [] }));
    try {
      viaGetOrSet.items.length = 0;
    } catch {
      // frozen
    }
    expect(await cache.get('v:returned')).toStrictEqual({ items: [1, 2, 3], meta: { total: 3 } });
  });

  it('gives undefined back from a fetcher returning undefined and stores nothing', async () => {
    const { map, store } = make();
    const cache = cacheOn(store);
    let calls = 0;
    const fetcher = () => {
      calls++;
      return undefined;
    };
    expect(await cache.getOrSet('v:nothing', fetcher)).toBeUndefined();
    expect(await cache.has('v:nothing')).toBe(false);
    expect(map.has('vals:v:nothing')).toBe(false);
    expect(await cache.getOrSet('v:nothing', fetcher)).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('reads -0 back the way a JSON store does (as 0)', async () => {
    const cache = cacheOn(make().store);
    await cache.set('v:negzero', -0);
    expect(Object.is(await cache.get('v:negzero'), 0)).toBe(true);
  });
});

describe('the structured (in-process) store path', () => {
  it('stores a deep-frozen copy and returns frozen values', async () => {
    const { map, store } = structuredStore();
    const cache = cacheOn(store);
    await cache.set('s:1', { a: { b: [1, { c: 2 }] } });
    const value = await cache.get<{ a: { b: [number, { c: number }] } }>('s:1');
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value?.a)).toBe(true);
    expect(Object.isFrozen(value?.a.b)).toBe(true);
    expect(Object.isFrozen(value?.a.b[1])).toBe(true);
    expect(() => {
      (value as { a: unknown }).a = 1;
    }).toThrow(TypeError);
    // No JSON text: the store holds an object.
    expect(typeof map.get('vals:s:1')).toBe('object');
    const fetched = await cache.getOrSet('s:2', () => ({ list: [1] }));
    expect(Object.isFrozen(fetched)).toBe(true);
    expect(Object.isFrozen(fetched.list)).toBe(true);
  });

  it('reads a value the same as the Map (JSON) store does', async () => {
    const map = cacheOn(new Map(), 'same');
    const structured = cacheOn(structuredStore().store, 'same');
    const value = { when: new Date(0), n: 1.5, s: 'é', nested: [{ x: null }], gone: undefined };
    await map.set('k', value);
    await structured.set('k', value);
    expect(await structured.get('k')).toStrictEqual(await map.get('k'));
  });
});

describe('the Map (JSON text) store path', () => {
  it('stores a plain-JSON envelope text, readable by anyone', async () => {
    const map = new Map<string, unknown>();
    const cache = cacheOn(map, 'bff');
    await cache.set('orders:detail:801', { id: 801 });
    const raw = map.get('bff:orders:detail:801');
    expect(typeof raw).toBe('string');
    expect(JSON.parse(raw as string)).toMatchObject({ v: 1, value: { id: 801 } });
  });

  it('drops __proto__ from an entry a foreign writer put raw into the store', async () => {
    const map = new Map<string, unknown>();
    const cache = cacheOn(map, 'bff');
    map.set(
      'bff:foreign:1',
      '{"v":1,"value":{"ok":true,"__proto__":{"polluted":1},"deep":[{"__proto__":{"polluted":2}}]},"createdAt":0,"freshUntil":null,"livesUntil":null}',
    );
    const value = await cache.get<Record<string, unknown>>('foreign:1');
    expect(value).toStrictEqual({ ok: true, deep: [{}] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(value?.polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    const viaGetOrSet = await cache.getOrSet<Record<string, unknown>>('foreign:1', () => ({ other: 1 }));
    expect(viaGetOrSet.polluted).toBeUndefined();
  });
});

describe('corrupt entries written raw into the store', () => {
  const corrupt: Array<[string, unknown]> = [
    ['garbage text', '\u00ff{not json'],
    ['truncated JSON', '{"v":1,"value":'],
    ['a wrong envelope version', '{"v":99,"value":1,"createdAt":0,"freshUntil":null,"livesUntil":null}'],
    ['valid JSON that is not an envelope', '{"id":801,"name":"order"}'],
    ['a JSON number', '42'],
    ['an envelope without a value', '{"v":1,"createdAt":0,"freshUntil":null,"livesUntil":null}'],
    [
      'an envelope with a non-numeric expiry',
      '{"v":1,"value":1,"createdAt":0,"freshUntil":"soon","livesUntil":null}',
    ],
    ['a non-string object', { hello: 'world' }],
    // Served fresh until 2100, then as stale forever: no writer of ours ends a life before it starts.
    [
      'a finite fresh window with no end of life',
      '{"v":1,"value":1,"createdAt":0,"freshUntil":4102444800000,"livesUntil":null}',
    ],
    [
      'an end of life before the end of the fresh window',
      '{"v":1,"value":1,"createdAt":0,"freshUntil":4102444800000,"livesUntil":1}',
    ],
    [
      'an end of life with no fresh window',
      '{"v":1,"value":1,"createdAt":0,"freshUntil":null,"livesUntil":4102444800000}',
    ],
    [
      'a creation time that is not a number',
      '{"v":1,"value":1,"createdAt":null,"freshUntil":null,"livesUntil":null}',
    ],
  ];

  it.each(corrupt)('treats %s as a counted miss, replaced by the next getOrSet', async (_, raw) => {
    const map = new Map<string, unknown>();
    const cache = cacheOn(map, 'bff');
    map.set('bff:orders:1', raw);
    expect(await cache.get('orders:1')).toBeUndefined();
    // Every read that meets the bad entry counts it, has() included.
    expect(await cache.has('orders:1')).toBe(false);
    const before = cache.stats().buckets.default;
    expect(before?.misses).toBe(1);
    expect(before?.corruptEntries).toBe(2);

    expect(await cache.getOrSet('orders:1', () => ({ fresh: true }))).toStrictEqual({ fresh: true });
    expect(cache.stats().buckets.default?.corruptEntries).toBe(3);
    expect(await cache.get('orders:1')).toStrictEqual({ fresh: true });
    expect(cache.stats().buckets.default?.corruptEntries).toBe(3);
    // Replacing a corrupt entry is not an invalidation.
    expect(cache.stats().buckets.default?.invalidations).toBe(0);
  });

  it('counts corrupt entries met by getMany', async () => {
    const map = new Map<string, unknown>();
    const cache = cacheOn(map, 'bff');
    await cache.set('a', 1);
    map.set('bff:b', 'garbage');
    expect(await cache.getMany(['a', 'b', 'c'])).toStrictEqual([1, undefined, undefined]);
    const stats = cache.stats().buckets.default;
    expect(stats?.hits).toBe(1);
    expect(stats?.misses).toBe(2);
    expect(stats?.corruptEntries).toBe(1);
  });
});

describe('misuse is a rejected promise, never a synchronous throw', () => {
  const calls: Array<[string, (cache: Cache) => Promise<unknown>]> = [
    ['get(42)', (cache) => cache.get(42 as never)],
    ['get("")', (cache) => cache.get('')],
    ['get("a::b")', (cache) => cache.get('a::b')],
    ['set(undefined key)', (cache) => cache.set(undefined as never, 1)],
    ['set(key, undefined)', (cache) => cache.set('k', undefined)],
    ['set with a bad ttl', (cache) => cache.set('k', 1, { ttl: 'soon' as never })],
    ['has(null)', (cache) => cache.has(null as never)],
    ['delete({})', (cache) => cache.delete({} as never)],
    ['getMany("a")', (cache) => cache.getMany('a' as never)],
    ['getMany([1])', (cache) => cache.getMany([1] as never)],
    ['setMany(null)', (cache) => cache.setMany(null as never)],
    ['deleteMany([""])', (cache) => cache.deleteMany([''])],
    ['getOrSet(42, fn)', (cache) => cache.getOrSet(42 as never, () => 1)],
    ['getOrSet(key, not a function)', (cache) => cache.getOrSet('k', 'nope' as never)],
    ['getOrSet with bad tags', (cache) => cache.getOrSet('k', () => 1, { tags: 'a' as never })],
    ['invalidateTags("a")', (cache) => cache.invalidateTags('a' as never)],
    ['countByPattern("")', (cache) => cache.countByPattern('')],
    ['deleteByPattern("[")', (cache) => cache.deleteByPattern('[')],
    ['memoryUsageByPattern(1)', (cache) => cache.memoryUsageByPattern(1 as never)],
  ];

  it.each(calls)('%s rejects with a typed CacheError', async (_, call) => {
    const cache = cacheOn(new Map());
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = call(cache);
    }).not.toThrow();
    expect(promise).toBeInstanceOf(Promise);
    const error = await rejectionOf(promise as Promise<unknown>);
    expect(isCacheError(error)).toBe(true);
    expect((error as { code: string }).code).toMatch(/^E_INVALID_(KEY|VALUE|OPTION|PATTERN)$/);
  });

  it('get(42) rejects with E_INVALID_KEY', async () => {
    const cache = cacheOn(new Map());
    await expect(cache.get(42 as never)).rejects.toMatchObject({ name: 'CacheError', code: 'E_INVALID_KEY' });
  });

  it('a call on a closed cache rejects E_CLOSED', async () => {
    const cache = cacheOn(new Map());
    await cache.close();
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' });
    await expect(cache.getOrSet('k', () => 1)).rejects.toMatchObject({ code: 'E_CLOSED' });
  });
});

describe('codecs', () => {
  const reversing = {
    name: 'reversing',
    encode: (envelope: unknown) => [...JSON.stringify(envelope)].reverse().join(''),
    decode: (text: string) => JSON.parse([...text].reverse().join('')),
  };

  it('applies a custom codec to what a serializing store keeps', async () => {
    const map = new Map<string, unknown>();
    const cache = createCache({ store: map, prefix: 'codec', codec: reversing });
    await cache.set('k', { secret: 'plain' });
    expect(String(map.get('codec:k'))).not.toContain('secret');
    expect(await cache.get('k')).toEqual({ secret: 'plain' });
    await cache.close();
  });

  it('refuses a custom codec on a structured store that serializes by itself (it would be skipped)', () => {
    const store = inProcessStructuredStore();
    const capabilities = (store as unknown as Record<symbol, StoreCapabilities>)[storeCapabilities];
    (store as unknown as Record<symbol, StoreCapabilities>)[storeCapabilities] = {
      ...(capabilities as StoreCapabilities),
      inProcess: false,
    };
    expect(() => createCache({ store, prefix: 'codec', codec: reversing })).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED' }),
    );
    // In-process structured stores keep objects, never bytes: no codec is needed there.
    expect(() =>
      createCache({ store: inProcessStructuredStore(), prefix: 'codec', codec: reversing }),
    ).not.toThrow();
  });
});
