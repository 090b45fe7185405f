import assert from 'node:assert/strict';
import { eventDriven, ttl } from '@org/cache-core';
import { sleep } from './assertions.js';
import type { CacheTestBody } from './cache-fixture.js';

type Register = (name: string, body: CacheTestBody) => void;

/** A promise a test settles when it chooses, so concurrent callers pile up behind one fetch. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * getOrSet coalescing and errors, expiry by the injected clock, and tags. With `physicalTtl`
 * (the store expires entries), also that core hands the store a ttl, so dead entries do not pile up.
 */
export function cacheFreshnessTests(test: Register, physicalTtl: boolean): void {
  if (physicalTtl) {
    test('entries carry a physical ttl: the store forgets them, unless the strategy has no end', async (open, {
      id,
    }) => {
      const { cache, store } = await open();
      await cache.set('short', 'v', { ttl: 50 });
      await cache.set('default', 'v');
      const events = await open({ store, prefix: `${id}e`, strategy: eventDriven({ safetyTtl: 0 }) });
      await events.cache.set('until-invalidated', 'v');
      // The manual clock stands still: only the store's own expiry can make `short` go.
      await sleep(120);
      assert.equal(await cache.get('short'), undefined);
      assert.equal(await cache.get('default'), 'v');
      assert.equal(await events.cache.get('until-invalidated'), 'v');
    });
  }

  test('getOrSet: 100 concurrent misses share one fetch and all get its value', async (open) => {
    const { cache } = await open();
    const release = gate();
    let fetches = 0;
    const fetcher = async () => {
      fetches++;
      await release.opened;
      return { id: 42, tags: ['a'] };
    };
    const callers = Array.from({ length: 100 }, () => cache.getOrSet('k', fetcher));
    // Lets every caller reach the store and find the miss before the fetch completes.
    await sleep(10);
    release.open();
    const values = await Promise.all(callers);
    assert.equal(fetches, 1);
    for (const value of values) assert.deepEqual(value, { id: 42, tags: ['a'] });
    assert.deepEqual(await cache.getOrSet('k', fetcher), { id: 42, tags: ['a'] });
    assert.equal(fetches, 1, 'the stored value is a hit');
  });

  test('getOrSet: a fetch error reaches every waiter and nothing is stored', async (open) => {
    const { cache } = await open();
    const release = gate();
    const failure = new Error('source is down');
    let fetches = 0;
    const failing = async () => {
      fetches++;
      await release.opened;
      throw failure;
    };
    const callers = Array.from({ length: 10 }, () => cache.getOrSet('k', failing));
    await sleep(10);
    release.open();
    const outcomes = await Promise.allSettled(callers);
    assert.equal(fetches, 1);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      const reason = (outcome as PromiseRejectedResult).reason as { cause?: unknown };
      assert.ok(
        reason === failure || reason?.cause === failure,
        `the fetcher's error, got ${String(reason)}`,
      );
    }
    assert.equal(await cache.has('k'), false);
    assert.equal(await cache.getOrSet('k', async () => 'recovered'), 'recovered', 'errors are not cached');
    assert.equal(await cache.get('k'), 'recovered');
  });

  test('getOrSet: undefined from the fetcher is returned and not stored', async (open) => {
    const { cache } = await open();
    let fetches = 0;
    const nothing = async () => {
      fetches++;
      return undefined;
    };
    assert.equal(await cache.getOrSet('k', nothing), undefined);
    assert.equal(await cache.has('k'), false);
    assert.equal(await cache.getOrSet('k', nothing), undefined);
    assert.equal(fetches, 2);
  });

  test('getOrSet: falsy values are hits, not refetched', async (open) => {
    const { cache } = await open();
    for (const [index, value] of [0, false, '', null].entries()) {
      let fetches = 0;
      const fetcher = async () => {
        fetches++;
        return value;
      };
      assert.equal(await cache.getOrSet(`k${index}`, fetcher), value);
      assert.equal(await cache.getOrSet(`k${index}`, fetcher), value);
      assert.equal(fetches, 1, `${JSON.stringify(value)} was fetched once`);
    }
  });

  test('entries expire by the injected clock, even on a store that never expires anything', async (open) => {
    const { cache, clock } = await open();
    await cache.set('k', 'v', { ttl: '1m' });
    clock.advance('59s');
    assert.equal(await cache.get('k'), 'v');
    clock.advance('2s');
    assert.equal(await cache.get('k'), undefined);
    assert.equal(await cache.has('k'), false);
    assert.equal(await cache.getOrSet('k', async () => 'refetched', { ttl: '1m' }), 'refetched');
    assert.equal(await cache.get('k'), 'refetched');
  });

  test('the default strategy applies to plain calls; a per-call ttl overrides it', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('1m') });
    await cache.set('default', 1);
    await cache.set('longer', 2, { ttl: '10m' });
    await cache.getOrSet('fetched', async () => 3);
    clock.advance('61s');
    assert.deepEqual(await cache.getMany(['default', 'longer', 'fetched']), [undefined, 2, undefined]);
    clock.advance('10m');
    assert.equal(await cache.get('longer'), undefined);
  });

  test('invalidateTags misses every dependent entry and keeps the others', async (open) => {
    const { cache } = await open();
    await cache.set('a', 'A', { tags: ['t'] });
    await cache.set('b', 'B', { tags: ['t', 'u'] });
    await cache.set('c', 'C', { tags: ['u'] });
    await cache.set('d', 'D');
    await cache.getOrSet('e', async () => 'E', { tags: ['t'] });
    await cache.setMany([{ key: 'f', value: 'F', tags: ['t'] }]);
    await cache.invalidateTags(['t']);
    assert.deepEqual(await cache.getMany(['a', 'b', 'c', 'd', 'e', 'f']), [
      undefined,
      undefined,
      'C',
      'D',
      undefined,
      undefined,
    ]);
    await cache.set('a', 'A2', { tags: ['t'] });
    assert.equal(await cache.get('a'), 'A2', 'an entry written after the invalidation lives');
    await cache.invalidateTags(['never-used']);
    assert.deepEqual(await cache.getMany(['a', 'c', 'd']), ['A2', 'C', 'D']);
  });

  // A JSON scrub of `__proto__` once dropped such a tag from the entry read back from Redis: the
  // entry then outlived every invalidation of it.
  test('tags named like Object.prototype members are invalidated like any other', async (open) => {
    const { cache } = await open();
    const tags = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const tag of tags) await cache.set(`k-${tag}`, tag, { tags: [tag, 'other'] });
    await cache.getOrSet('fetched', async () => 'F', { tags: ['__proto__'] });
    assert.deepEqual(await cache.getMany(tags.map((tag) => `k-${tag}`)), tags);
    for (const tag of tags) {
      await cache.invalidateTags([tag]);
      assert.equal(
        await cache.get(`k-${tag}`),
        undefined,
        `an entry tagged ${tag} misses after its invalidation`,
      );
    }
    assert.equal(await cache.get('fetched'), undefined);
  });

  test('tags are scoped to the cache prefix', async (open, { id }) => {
    const first = await open({ prefix: `${id}a` });
    const second = await open({ prefix: `${id}b`, store: first.store });
    await first.cache.set('k', 1, { tags: ['shared'] });
    await second.cache.set('k', 2, { tags: ['shared'] });
    await first.cache.invalidateTags(['shared']);
    assert.equal(await first.cache.get('k'), undefined);
    assert.equal(await second.cache.get('k'), 2);
  });
}
