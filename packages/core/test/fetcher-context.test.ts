import { describe, expect, it } from 'vitest';
import { closedAfterEachTest } from './support/open-caches.js';
import { deferred, flush, leasingStore } from './support/stores.js';

/**
 * The adaptive fetcher context beyond the store contract (testing's cache-adaptive.ts runs that on
 * every store): tags a fetcher adds late against invalidations in this process, and the joiners
 * that came in between.
 */
const open = closedAfterEachTest();

describe('ctx.setTags and invalidations in flight', () => {
  it('a caller that joined after the tag was invalidated does not get the value; one that joined before does', async () => {
    const cache = open();
    const upstream = deferred<void>();
    const tagKnown = deferred<void>();
    let fetches = 0;
    const fetcher = async (ctx: { setTags(tags: string[]): void }) => {
      fetches++;
      if (fetches > 1) return 'after the invalidation';
      await tagKnown.promise;
      ctx.setTags(['account:1']); // known only from the upstream's answer
      await upstream.promise;
      return 'before the invalidation';
    };
    const first = cache.getOrSet('k', fetcher);
    await flush();
    const joinedBefore = cache.getOrSet('k', fetcher);
    await cache.invalidateTags(['account:1']);
    const joinedAfter = cache.getOrSet('k', fetcher);
    const batchJoinedAfter = cache.getManyOrSet(['k'], async (keys) => keys.map(() => 'batch after'));
    tagKnown.resolve();
    upstream.resolve();
    expect(await first).toBe('before the invalidation');
    expect(await joinedBefore).toBe('before the invalidation');
    expect(await joinedAfter).toBe('after the invalidation');
    expect(await batchJoinedAfter).toEqual([expect.stringMatching(/after/)]);
    expect(fetches).toBe(2);
    expect(await cache.get('k')).not.toBe('before the invalidation');
  });

  it('once the fetcher has added a tag, an invalidation of it detaches the flight at once', async () => {
    const cache = open();
    const upstream = deferred<void>();
    let fetches = 0;
    const fetcher = async (ctx: { setTags(tags: string[]): void }) => {
      const run = ++fetches;
      ctx.setTags(['account:1']);
      if (run === 1) await upstream.promise;
      return `fetch ${run}`;
    };
    const first = cache.getOrSet('k', fetcher);
    await flush();
    await cache.invalidateTags(['account:2']);
    const joined = cache.getOrSet('k', fetcher);
    await flush();
    expect(fetches).toBe(1); // an unrelated tag leaves the flight joinable
    await cache.invalidateTags(['account:1']);
    const after = cache.getOrSet('k', fetcher);
    expect(await after).toBe('fetch 2');
    upstream.resolve();
    expect(await first).toBe('fetch 1');
    expect(await joined).toBe('fetch 1');
    expect(await cache.get('k')).toBe('fetch 2');
  });

  it('with leases, tags added are snapshotted when set: the value is committed with them', async () => {
    const store = leasingStore();
    const cache = open({ store, lease: { ttl: 5_000 } });
    await cache.getOrSet('k', (ctx) => {
      ctx.setTags(['account:1']);
      return 'v';
    });
    expect(await cache.get('k')).toBe('v');
    await cache.invalidateTags(['account:1']);
    expect(await cache.get('k')).toBeUndefined();
  });
});
