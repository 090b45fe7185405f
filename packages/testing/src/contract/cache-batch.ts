import assert from 'node:assert/strict';
import { ttl } from '@org/cache-core';
import { assertRejectsWith, sleep } from './assertions.js';
import type { CacheTestBody } from './cache-fixture.js';

type Register = (name: string, body: CacheTestBody) => void;

const keysOf = (count: number, from = 0) => Array.from({ length: count }, (_, index) => `p:${from + index}`);

/** A batch fetcher that records every call and answers `value(key)` for each key, as a Map. */
function recordingFetcher(value: (key: string) => unknown = (key) => ({ key })) {
  const calls: string[][] = [];
  const fetcher = async (keys: string[]) => {
    calls.push([...keys]);
    return new Map(keys.map((key) => [key, value(key)]));
  };
  return { calls, fetcher };
}

/** getManyOrSet: one read, one batch call for exactly the missing keys, each value stored on its own. */
export function cacheBatchTests(test: Register): void {
  test('getManyOrSet: one batch call for exactly the missing keys, results aligned with the input', async (open) => {
    const { cache } = await open();
    const keys = keysOf(10);
    for (const key of keys.slice(0, 5)) await cache.set(key, { key, cached: true });
    const { calls, fetcher } = recordingFetcher();
    const values = await cache.getManyOrSet(keys, fetcher);
    assert.deepEqual(calls, [keys.slice(5)]);
    assert.deepEqual(
      values,
      keys.map((key, index) => (index < 5 ? { key, cached: true } : { key })),
    );
    const stats = cache.stats().buckets.default;
    assert.equal(stats?.hits, 5);
    assert.equal(stats?.misses, 5);
    assert.equal(stats?.fetches, 5, 'fetches count keys, as getOrSet would');
    assert.deepEqual(await cache.getManyOrSet(keys, fetcher), values);
    assert.equal(calls.length, 1, 'every value was stored: the second call is all hits');
  });

  test('getManyOrSet: an array aligned with the keys works; keys left out are misses, not stored', async (open) => {
    const { cache } = await open();
    const keys = keysOf(4);
    let calls = 0;
    const values = await cache.getManyOrSet(keys, async (missing) => {
      calls++;
      return missing.map((key) => (key === 'p:2' ? undefined : `value of ${key}`));
    });
    assert.deepEqual(values, ['value of p:0', 'value of p:1', undefined, 'value of p:3']);
    assert.equal(await cache.has('p:2'), false);
    const { calls: second, fetcher } = recordingFetcher(() => 'now there');
    const partial = await cache.getManyOrSet(keys, async (missing) => {
      const map = await fetcher(missing);
      map.delete('p:2');
      return map;
    });
    assert.deepEqual(second, [['p:2']], 'only the miss is asked again');
    assert.equal(partial[2], undefined, 'left out of a Map: a miss');
    assert.equal(calls, 1);
  });

  test('getManyOrSet: empty input, duplicates, extra keys', async (open) => {
    const { cache } = await open();
    const { calls, fetcher } = recordingFetcher();
    assert.deepEqual(await cache.getManyOrSet([], fetcher), []);
    assert.equal(calls.length, 0, 'no fetch for no keys');
    const values = await cache.getManyOrSet(['a', 'b', 'a', 'a'], fetcher);
    assert.deepEqual(calls, [['a', 'b']], 'each distinct key is asked once');
    assert.deepEqual(values, [{ key: 'a' }, { key: 'b' }, { key: 'a' }, { key: 'a' }]);
    assert.equal(cache.stats().buckets.default?.misses, 4, 'every position is counted');
    const extra = await cache.getManyOrSet(
      ['c'],
      async () =>
        new Map([
          ['c', 1],
          ['not-asked', 2],
        ]),
    );
    assert.deepEqual(extra, [1]);
    assert.equal(await cache.has('not-asked'), false, 'a key it was not asked is not stored');
  });

  test('getManyOrSet: bad input rejects before any fetch', async (open) => {
    const { cache } = await open();
    const { calls, fetcher } = recordingFetcher();
    await assertRejectsWith(() => cache.getManyOrSet(['ok', ''], fetcher), 'E_INVALID_KEY');
    await assertRejectsWith(() => cache.getManyOrSet('ok' as never, fetcher), 'E_INVALID_KEY');
    await assertRejectsWith(() => cache.getManyOrSet(['ok'], 'nope' as never), 'E_INVALID_OPTION');
    await assertRejectsWith(() => cache.getManyOrSet(['ok'], fetcher, { ttl: -1 }), 'E_INVALID_OPTION');
    await assertRejectsWith(() => cache.getManyOrSet(['ok'], fetcher, { tags: [''] }), 'E_INVALID_OPTION');
    assert.equal(calls.length, 0);
  });

  test('getManyOrSet: a result of the wrong shape fails the fetch with E_INVALID_VALUE', async (open) => {
    const { cache } = await open();
    for (const wrong of [{ a: 1 }, null, undefined, 'a', ['only one']]) {
      await assertRejectsWith(
        () => cache.getManyOrSet(['a', 'b'], async () => wrong as never),
        'E_INVALID_VALUE',
        JSON.stringify(wrong),
      );
    }
    await assertRejectsWith(
      () => cache.getManyOrSet(['a'], async () => new Map([['', 1]])),
      'E_INVALID_VALUE',
      'a Map with an invalid key',
    );
    assert.equal(await cache.has('a'), false);
    assert.equal(cache.stats().buckets.default?.fetchErrors, 5 * 2 + 1, 'counted per key as fetch errors');
  });

  test('getManyOrSet: a throwing fetcher serves stale values per key, and rejects when a key has none', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('1m'), grace: '1h' });
    await cache.set('a', 'old a');
    await cache.set('b', 'old b');
    clock.advance('2m');
    const failing = async () => {
      throw new Error('source is down');
    };
    assert.deepEqual(await cache.getManyOrSet(['a', 'b'], failing), ['old a', 'old b']);
    assert.equal(cache.stats().buckets.default?.staleHits, 2);
    await assert.rejects(cache.getManyOrSet(['a', 'c'], failing), /source is down/);
  });

  test('getManyOrSet: fetchTimeout aborts the batch fetcher and fails with E_FETCH_TIMEOUT', async (open) => {
    const { cache } = await open();
    let aborted = false;
    await assertRejectsWith(
      () =>
        cache.getManyOrSet(
          ['a', 'b'],
          (_keys, { signal }) =>
            new Promise((_, reject) => {
              signal.addEventListener('abort', () => {
                aborted = true;
                reject(signal.reason);
              });
            }),
          { fetchTimeout: 50 },
        ),
      'E_FETCH_TIMEOUT',
    );
    assert.equal(aborted, true);
  });

  test('getManyOrSet: concurrent getOrSet joins the batch, and the batch joins a running getOrSet', async (open) => {
    const { cache } = await open();
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let singleFetches = 0;
    const single = cache.getOrSet('x', async () => {
      singleFetches++;
      await released;
      return 'x by getOrSet';
    });
    await sleep(10);
    const batchCalls: string[][] = [];
    const batch = cache.getManyOrSet(['x', 'y'], async (keys) => {
      batchCalls.push(keys);
      await released;
      return keys.map((key) => `${key} by batch`);
    });
    await sleep(10);
    const joiner = cache.getOrSet('y', async () => {
      singleFetches++;
      return 'y by getOrSet';
    });
    release();
    assert.deepEqual(await batch, ['x by getOrSet', 'y by batch']);
    assert.equal(await joiner, 'y by batch');
    assert.equal(await single, 'x by getOrSet');
    assert.deepEqual(batchCalls, [['y']]);
    assert.equal(singleFetches, 1);
  });

  test('getManyOrSet: tags per key, and an invalidation during the fetch keeps that key unwritten', async (open) => {
    const { cache } = await open();
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batch = cache.getManyOrSet(
      ['a', 'b', 'c'],
      async (keys) => {
        await released;
        return keys.map((key) => ({ key, owner: key === 'c' ? 'acc:2' : 'acc:1' }));
      },
      { tags: (value: { owner: string }) => [value.owner] },
    );
    await sleep(10);
    await cache.delete('b');
    release();
    assert.equal((await batch).length, 3);
    assert.deepEqual(await cache.get('a'), { key: 'a', owner: 'acc:1' });
    assert.equal(await cache.has('b'), false, 'deleted while in flight: not written');
    await cache.invalidateTags(['acc:1']);
    assert.equal(await cache.has('a'), false);
    assert.deepEqual(await cache.get('c'), { key: 'c', owner: 'acc:2' });
  });
}
