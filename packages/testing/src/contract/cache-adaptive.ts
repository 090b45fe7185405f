import assert from 'node:assert/strict';
import { type FetchContext, isCacheError, ttl } from '@org/cache-core';
import { assertRejectsWith, sleep } from './assertions.js';
import type { CacheTestBody } from './cache-fixture.js';

type Register = (name: string, body: CacheTestBody) => void;

/**
 * The adaptive fetcher context: the stale entry and its age, and what a fetcher decides about its
 * own value (`setTtl`, `setTags`, `skip`, `notModified`), whatever the store.
 */
export function cacheAdaptiveFetcherTests(test: Register): void {
  const graced = { strategy: ttl('1m'), grace: '1h' } as const;

  test('fetcher context: stale is undefined on a cold miss, { value, age } inside grace', async (open) => {
    const { cache, clock } = await open(graced);
    let seen: FetchContext['stale'] | null = null;
    await cache.getOrSet('k', (ctx) => {
      seen = ctx.stale;
      return { v: 1 };
    });
    assert.equal(seen, undefined);
    clock.advance('90s');
    let legacy: unknown;
    await cache.getOrSet('k', (ctx) => {
      seen = ctx.stale;
      legacy = ctx.staleValue;
      return { v: 2 };
    });
    assert.deepEqual(seen, { value: { v: 1 }, age: 90_000 });
    assert.deepEqual(legacy, { v: 1 }, 'staleValue keeps working');
  });

  test('fetcher context: setTtl overrides the call ttl for this value', async (open) => {
    const { cache, clock } = await open({ strategy: ttl('1h') });
    let fetches = 0;
    const fetcher = (ctx: FetchContext) => {
      fetches++;
      ctx.setTtl('10s');
      return 'short-lived';
    };
    await cache.getOrSet('k', fetcher);
    clock.advance('9s');
    assert.equal(await cache.get('k'), 'short-lived');
    clock.advance('2s');
    assert.equal(await cache.get('k'), undefined, 'expired after the fetcher-chosen 10 s, not 1 h');
    await cache.getOrSet('k', fetcher);
    assert.equal(fetches, 2);
  });

  test('fetcher context: setTags adds tags that invalidate the entry', async (open) => {
    const { cache } = await open();
    await cache.getOrSet(
      'k',
      (ctx) => {
        ctx.setTags(['product:1']);
        return 'v';
      },
      { tags: ['static'] },
    );
    await cache.invalidateTags(['unrelated']);
    assert.equal(await cache.get('k'), 'v');
    await cache.invalidateTags(['product:1']);
    assert.equal(await cache.get('k'), undefined, 'a tag set by the fetcher invalidates');
    await cache.getOrSet(
      'k',
      (ctx) => {
        ctx.setTags(['product:1']);
        return 'v2';
      },
      { tags: ['static'] },
    );
    await cache.invalidateTags(['static']);
    assert.equal(await cache.get('k'), undefined, 'the call tags still apply');
  });

  test('fetcher context: a tag set during the fetch and invalidated before it ends is not written', async (open) => {
    const { cache } = await open();
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const call = cache.getOrSet('k', async (ctx) => {
      ctx.setTags(['account:1']);
      await released;
      return 'old';
    });
    await sleep(10);
    await cache.invalidateTags(['account:1']);
    release();
    assert.equal(await call, 'old', 'the caller already waiting gets the value');
    assert.equal(await cache.get('k'), undefined, 'but it is not stored');
    assert.equal(await cache.getOrSet('k', () => 'new'), 'new');
  });

  test('fetcher context: skip() returns the value and stores nothing', async (open) => {
    const { cache } = await open();
    const value = await cache.getOrSet('k', (ctx) => {
      ctx.skip();
      return { partial: true };
    });
    assert.deepEqual(value, { partial: true });
    assert.equal(await cache.has('k'), false);
  });

  test('fetcher context: notModified() returns the stale value and renews it without a new value', async (open) => {
    const { cache, clock } = await open(graced);
    await cache.set('k', { etag: 'abc', body: 'page' });
    clock.advance('2m');
    assert.equal(await cache.get('k'), undefined, 'past freshness');
    let age: number | undefined;
    const value = await cache.getOrSet('k', (ctx) => {
      age = ctx.stale?.age;
      return ctx.notModified();
    });
    assert.deepEqual(value, { etag: 'abc', body: 'page' });
    assert.equal(age, 120_000);
    assert.deepEqual(await cache.get('k'), { etag: 'abc', body: 'page' }, 'fresh again');
    clock.advance('59s');
    let renewedAge: number | undefined;
    let fetched = false;
    assert.deepEqual(
      await cache.getOrSet('k', () => {
        fetched = true;
        return 'x';
      }),
      { etag: 'abc', body: 'page' },
    );
    assert.equal(fetched, false, 'a hit for a full ttl after the renewal');
    clock.advance('2s');
    await cache.getOrSet('k', (ctx) => {
      renewedAge = ctx.stale?.age;
      return ctx.notModified();
    });
    assert.equal(renewedAge, 61_000, 'the age counts from the renewal');
  });

  test('fetcher context: notModified() without a stale value fails with E_NO_STALE_VALUE', async (open) => {
    const { cache } = await open();
    await assertRejectsWith(() => cache.getOrSet('k', (ctx) => ctx.notModified()), 'E_NO_STALE_VALUE');
    assert.equal(await cache.has('k'), false);
  });

  test('fetcher context: invalid setTtl/setTags fail the fetch with E_INVALID_OPTION, even if caught', async (open) => {
    const { cache, clock } = await open(graced);
    for (const misuse of [
      (ctx: FetchContext) => ctx.setTtl(-1),
      (ctx: FetchContext) => ctx.setTtl(0),
      (ctx: FetchContext) => ctx.setTtl('soon' as never),
      (ctx: FetchContext) => ctx.setTags('product:1' as never),
      (ctx: FetchContext) => ctx.setTags(['']),
    ]) {
      let thrown: unknown;
      await assertRejectsWith(
        () =>
          cache.getOrSet('k', (ctx) => {
            try {
              misuse(ctx);
            } catch (error) {
              thrown = error;
            }
            return 'v';
          }),
        'E_INVALID_OPTION',
      );
      assert.ok(isCacheError(thrown, 'E_INVALID_OPTION'), 'thrown at the call too');
      assert.equal(await cache.has('k'), false);
    }
    await cache.set('k', 'kept');
    clock.advance('2m');
    const served = await cache.getOrSet('k', (ctx) => {
      ctx.setTtl(-5);
      return 'new';
    });
    assert.equal(served, 'kept', 'a failed fetch serves the stale value inside grace, as any fetch error');
  });

  test('fetcher context: calls after the fetcher settled throw E_INVALID_OPTION and change nothing', async (open) => {
    const { cache, clock } = await open();
    let kept: FetchContext | undefined;
    await cache.getOrSet('k', (ctx) => {
      kept = ctx;
      return 'v';
    });
    const ctx = kept as FetchContext;
    for (const late of [
      () => ctx.setTtl('1s'),
      () => ctx.setTags(['t']),
      () => ctx.skip(),
      () => ctx.notModified(),
    ]) {
      assert.throws(late, (error: unknown) => isCacheError(error, 'E_INVALID_OPTION'));
    }
    clock.advance('2s');
    await cache.invalidateTags(['t']);
    assert.equal(await cache.get('k'), 'v', 'neither the late ttl nor the late tag applied');
  });
}
