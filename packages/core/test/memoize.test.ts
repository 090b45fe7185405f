import { type Cache, cacheKey, createCache, isCacheError } from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, manualClock, settle } from './support/helpers.js';

const MINUTE = 60_000;

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function setup() {
  const clock = manualClock();
  const cache = createCache({ store: new Map(), prefix: 'memo', clock });
  open.push(cache);
  return { clock, cache };
}

interface Product {
  id: string;
  name: string;
  version: number;
}

function productLoader() {
  const calls: string[] = [];
  let version = 0;
  async function loadProduct(id: string): Promise<Product> {
    calls.push(id);
    version++;
    return { id, name: `product ${id}`, version };
  }
  return { calls, loadProduct };
}

const productKey = (id: string) => cacheKey('catalog', 'product', id);

describe('cache.memoize', () => {
  it('caches results under key(...args) for the ttl', async () => {
    const { clock, cache } = setup();
    const { calls, loadProduct } = productLoader();
    const getProduct = cache.memoize(loadProduct, { key: productKey, ttl: '10m' });

    expect(await getProduct('A')).toEqual({ id: 'A', name: 'product A', version: 1 });
    expect(await getProduct('A')).toEqual({ id: 'A', name: 'product A', version: 1 });
    expect(await getProduct('B')).toMatchObject({ id: 'B', version: 2 });
    expect(calls).toEqual(['A', 'B']);
    expect(await cache.get('catalog:product:A')).toEqual({ id: 'A', name: 'product A', version: 1 });

    clock.advance(10 * MINUTE - 1);
    expect(await getProduct('A')).toMatchObject({ version: 1 });
    clock.advance(1);
    expect(await getProduct('A')).toMatchObject({ version: 3 });
    expect(calls).toEqual(['A', 'B', 'A']);
  });

  it('passes every argument through and keys on what key() makes of them', async () => {
    const { cache } = setup();
    const seen: unknown[][] = [];
    const add = cache.memoize(
      async (a: number, b: number, label: string) => {
        seen.push([a, b, label]);
        return `${label}=${a + b}`;
      },
      { key: (a, b) => cacheKey('sum', a, b) },
    );
    expect(await add(1, 2, 'x')).toBe('x=3');
    // Same key, so the cached result even though `label` differs.
    expect(await add(1, 2, 'y')).toBe('x=3');
    expect(await add(2, 1, 'z')).toBe('z=3');
    expect(seen).toEqual([
      [1, 2, 'x'],
      [2, 1, 'z'],
    ]);
  });

  it('shares one call between concurrent callers of one key', async () => {
    const { cache } = setup();
    const gate = deferred<string>();
    let calls = 0;
    const load = cache.memoize(
      (_id: string) => {
        calls++;
        return gate.promise;
      },
      { key: (id) => cacheKey('slow', id) },
    );
    const callers = Array.from({ length: 50 }, () => load('1'));
    const other = load('2');
    await settle();
    expect(calls).toBe(2);
    gate.resolve('value');
    expect(await Promise.all(callers)).toEqual(Array.from({ length: 50 }, () => 'value'));
    expect(await other).toBe('value');
    expect(calls).toBe(2);
  });

  it('runs again after cache.delete(key)', async () => {
    const { cache } = setup();
    const { calls, loadProduct } = productLoader();
    const getProduct = cache.memoize(loadProduct, { key: productKey });
    await getProduct('A');
    await getProduct('A');
    expect(await cache.delete('catalog:product:A')).toBe(true);
    expect(await getProduct('A')).toMatchObject({ version: 2 });
    expect(calls).toEqual(['A', 'A']);
  });

  it('runs again after an invalidation of one of its tags, static or derived', async () => {
    const { cache } = setup();
    const { calls, loadProduct } = productLoader();
    const byStatic = cache.memoize(loadProduct, { key: productKey, tags: ['catalog'] });
    const byDerived = cache.memoize(loadProduct, {
      key: (id) => cacheKey('catalog', 'derived', id),
      tags: (product) => [`product:${product.id}`],
    });
    await byStatic('A');
    await byDerived('B');
    await byDerived('C');
    await cache.invalidateTags(['catalog']);
    await byStatic('A');
    await byDerived('B');
    expect(calls).toEqual(['A', 'B', 'C', 'A']);
    await cache.invalidateTags(['product:B']);
    await byDerived('B');
    await byDerived('C');
    expect(calls).toEqual(['A', 'B', 'C', 'A', 'B']);
  });

  it('does not let a call made after an invalidation join the call already running', async () => {
    const { cache } = setup();
    const gates = [deferred<string>(), deferred<string>()];
    let calls = 0;
    const load = cache.memoize(
      () => {
        const gate = gates[calls] as ReturnType<typeof deferred<string>>;
        calls++;
        return gate.promise;
      },
      { key: () => 'k' },
    );
    const before = load();
    await settle();
    await cache.delete('k');
    const after = load();
    await settle();
    expect(calls).toBe(2);
    gates[0]?.resolve('old');
    gates[1]?.resolve('new');
    expect(await before).toBe('old');
    expect(await after).toBe('new');
    // The older result, finishing after the invalidation, was not stored.
    expect(await cache.get('k')).toBe('new');
  });

  it('does not cache errors', async () => {
    const { cache } = setup();
    let calls = 0;
    const flaky = cache.memoize(
      async (id: string) => {
        calls++;
        if (calls === 1) throw new Error(`boom ${id}`);
        return `ok ${id}`;
      },
      { key: (id) => cacheKey('flaky', id) },
    );
    await expect(flaky('1')).rejects.toThrow('boom 1');
    expect(await cache.has('flaky:1')).toBe(false);
    expect(await flaky('1')).toBe('ok 1');
    expect(await flaky('1')).toBe('ok 1');
    expect(calls).toBe(2);
  });

  it('shares a rejection between concurrent callers, then runs again', async () => {
    const { cache } = setup();
    const gate = deferred<string>();
    let calls = 0;
    const load = cache.memoize(
      () => {
        calls++;
        return calls === 1 ? gate.promise : 'second';
      },
      { key: () => 'k' },
    );
    const callers = [load(), load(), load()];
    await settle();
    gate.reject(new Error('down'));
    for (const caller of callers) await expect(caller).rejects.toThrow('down');
    expect(calls).toBe(1);
    expect(await load()).toBe('second');
  });

  it('does not store an undefined result', async () => {
    const { cache } = setup();
    let calls = 0;
    const load = cache.memoize(
      async () => {
        calls++;
        return undefined;
      },
      { key: () => 'nothing' },
    );
    expect(await load()).toBeUndefined();
    expect(await load()).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('rejects (never throws) when the key is bad or key() throws, without calling the function', async () => {
    const { cache } = setup();
    let calls = 0;
    const fn = async (id: string) => {
      calls++;
      return id;
    };
    const badKeys = cache.memoize(fn, { key: (id) => `catalog::${id}` });
    const throwingKey = cache.memoize(fn, {
      key: () => {
        throw new Error('no key for you');
      },
    });
    const nonString = cache.memoize(fn, { key: () => 42 as never });
    const viaCacheKey = cache.memoize(fn, { key: (id) => cacheKey('catalog', id) });

    for (const [call, check] of [
      [() => badKeys('1'), (error: unknown) => isCacheError(error, 'E_INVALID_KEY')],
      [() => throwingKey('1'), (error: unknown) => (error as Error).message === 'no key for you'],
      [() => nonString('1'), (error: unknown) => isCacheError(error, 'E_INVALID_KEY')],
      [() => viaCacheKey(''), (error: unknown) => isCacheError(error, 'E_INVALID_KEY')],
    ] as const) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }).not.toThrow();
      const error = await (promise as Promise<unknown>).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(check(error)).toBe(true);
    }
    expect(calls).toBe(0);
  });

  it('refuses to memoize without a function or a key() (a synchronous E_INVALID_OPTION)', () => {
    const { cache } = setup();
    expect(() => cache.memoize('nope' as never, { key: () => 'k' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => cache.memoize(async () => 1, {} as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });

  it('rejects a bad per-call option given to memoize as a rejection of each call', async () => {
    const { cache } = setup();
    const load = cache.memoize(async () => 1, { key: () => 'k', ttl: 'soon' as never });
    await expect(load()).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
  });

  it('keeps the wrapped function name and arity, as its documentation says', () => {
    const { cache } = setup();
    async function loadProduct(id: string, locale: string): Promise<string> {
      return `${id}:${locale}`;
    }
    const memoized = cache.memoize(loadProduct, { key: (id, locale) => cacheKey('p', id, locale) });
    expect(memoized.name).toBe('loadProduct');
    expect(memoized.length).toBe(2);
  });
});
