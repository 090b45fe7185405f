import { type BatchFetcher, isCacheError, ttl } from '@org/cache-core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closedAfterEachTest } from './support/open-caches.js';
import { deferred, flush, leasingStore } from './support/stores.js';

/**
 * getManyOrSet beyond the store contract (testing's cache-batch.ts runs that on every store):
 * buckets, the split between in-process flights and other processes' leases, close().
 */
const open = closedAfterEachTest();

// The bucket test below reads like the store contract's (node:assert style), with vitest's expect.
const assert = {
  deepEqual: (actual: unknown, expected: unknown, message?: string) =>
    expect(actual, message).toEqual(expected),
  equal: (actual: unknown, expected: unknown, message?: string) => expect(actual, message).toBe(expected),
};
const assertRejectsWith = async (call: () => Promise<unknown>, code: string) => {
  const error = await call().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isCacheError(error, code as never), String(error)).toBe(true);
};

const keysOf = (count: number, from = 0) => Array.from({ length: count }, (_, index) => `p:${from + index}`);

describe('bucket.getManyOrSet', () => {
  it('gets and returns ids; one key per id whatever its spelling; the schema applies per value', async () => {
    const cache = open();
    const catalog = cache.domain('catalog', {
      buckets: { product: { schema: z.object({ id: z.number(), name: z.string() }) } },
    });
    await catalog.buckets.product.set(1, { id: 1, name: 'cached' });
    const asked: unknown[][] = [];
    const values = await catalog.buckets.product.getManyOrSet([1, 2, 3, '2'], async (ids) => {
      asked.push(ids);
      return new Map(ids.map((id) => [String(id), { id: Number(id), name: `n${id}`, extra: 'stripped' }]));
    });
    assert.deepEqual(asked, [[2, 3]], "ids, once each ('2' and 2 are one key)");
    assert.deepEqual(values, [
      { id: 1, name: 'cached' },
      { id: 2, name: 'n2' },
      { id: 3, name: 'n3' },
      { id: 2, name: 'n2' },
    ]);
    assert.deepEqual(await catalog.buckets.product.get(3), { id: 3, name: 'n3' });
    const stats = catalog.buckets.product.stats();
    assert.equal(stats.hits + stats.misses, 5, 'one get plus four positions');
    const byArrayId = await catalog.buckets.product.getManyOrSet([['a', 'b']], async (ids) =>
      ids.map(() => ({ id: 9, name: 'sub' })),
    );
    assert.deepEqual(byArrayId, [{ id: 9, name: 'sub' }]);
    assert.deepEqual(await catalog.buckets.product.get(['a', 'b']), { id: 9, name: 'sub' });
    await assertRejectsWith(
      () => catalog.buckets.product.getManyOrSet([4], async () => [{ id: 'not a number' } as never]),
      'E_INVALID_VALUE',
    );
  });
});

describe('getManyOrSet across processes (caches sharing one leasing store)', () => {
  it('100 keys, 30 cached, 20 leased by another process: one batch call for the other 50, the 20 read', async () => {
    const store = leasingStore();
    const here = open({ store, lease: { ttl: 5_000, wait: 5_000 } });
    const elsewhere = open({ store, lease: { ttl: 5_000, wait: 5_000 } });
    const keys = keysOf(100);
    for (const key of keys.slice(0, 30)) await here.set(key, `cached ${key}`);
    const slow = deferred<void>();
    const held = keys.slice(30, 50).map((key) =>
      elsewhere.getOrSet(key, async () => {
        await slow.promise;
        return `elsewhere ${key}`;
      }),
    );
    await flush();
    const calls: string[][] = [];
    const batch = here.getManyOrSet(keys, async (missing) => {
      calls.push(missing);
      return missing.map((key) => `batch ${key}`);
    });
    await flush();
    expect(calls).toEqual([keys.slice(50)]);
    slow.resolve();
    await Promise.all(held);
    const values = await batch;
    expect(values).toEqual(
      keys.map((key, index) =>
        index < 30 ? `cached ${key}` : index < 50 ? `elsewhere ${key}` : `batch ${key}`,
      ),
    );
    expect(calls).toHaveLength(1);
    const stats = here.stats().buckets.default;
    expect(stats?.hits).toBe(30);
    expect(stats?.misses).toBe(70);
    expect(stats?.coalesced).toBe(20);
    expect(stats?.fetches).toBe(50);
    expect(store.leases.size).toBe(0);
  });

  it('fetches a leased key itself in one more call when the holder writes nothing', async () => {
    const store = leasingStore();
    const here = open({ store, lease: { ttl: 5_000, wait: 5_000 } });
    const elsewhere = open({ store, lease: { ttl: 5_000, wait: 5_000 } });
    const failing = deferred<void>();
    const held = elsewhere.getOrSet('b', async () => {
      await failing.promise;
      throw new Error('the holder failed');
    });
    await flush();
    const calls: string[][] = [];
    const batch = here.getManyOrSet(['a', 'b'], async (missing) => {
      calls.push(missing);
      return missing.map((key) => `batch ${key}`);
    });
    await flush();
    failing.resolve();
    await expect(held).rejects.toThrow('the holder failed');
    expect(await batch).toEqual(['batch a', 'batch b']);
    expect(calls).toEqual([['a'], ['b']]);
    expect(await here.get('b')).toBe('batch b');
  });

  it('joins 20 getOrSet flights of this process instead of fetching them', async () => {
    const cache = open();
    const keys = keysOf(100);
    for (const key of keys.slice(0, 30)) await cache.set(key, `cached ${key}`);
    const slow = deferred<void>();
    const running = keys.slice(30, 50).map((key) =>
      cache.getOrSet(key, async () => {
        await slow.promise;
        return `single ${key}`;
      }),
    );
    await flush();
    const calls: string[][] = [];
    const batch = cache.getManyOrSet(keys, (missing) => {
      calls.push(missing);
      return missing.map((key) => `batch ${key}`);
    });
    await flush();
    slow.resolve();
    await Promise.all(running);
    const values = await batch;
    expect(calls).toEqual([keys.slice(50)]);
    expect(values.slice(30, 50)).toEqual(keys.slice(30, 50).map((key) => `single ${key}`));
    expect(cache.stats().buckets.default?.coalesced).toBe(20);
  });
});

describe('getManyOrSet and close()', () => {
  it('a batch waiting on its fetcher settles with E_CLOSED at close, and its fetcher sees the abort', async () => {
    const cache = open({ strategy: ttl('1m') });
    let signal: AbortSignal | undefined;
    const fetcher: BatchFetcher<string, string> = (_keys, context) => {
      signal = context.signal;
      return new Promise(() => {});
    };
    const batch = cache.getManyOrSet(['a', 'b'], fetcher);
    await flush();
    await cache.close();
    await assertRejectsWith(() => batch, 'E_CLOSED');
    expect(signal?.aborted).toBe(true);
    await assertRejectsWith(() => cache.getManyOrSet(['a'], fetcher), 'E_CLOSED');
  });
});
