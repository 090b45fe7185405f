import { LRUCache } from 'lru-cache';

/** lru-cache as its README sets it up: bounded by `max`, a `ttl`, and `fetch()` for get-or-set. */
export default {
  name: 'lru-cache',
  tier: 'memory',
  packages: ['lru-cache'],
  config:
    '`new LRUCache({ max, ttl, fetchMethod })`; getOrSet = `lru.fetch(key, { context: fetcher })` (coalesces in-flight fetches)',
  async setup(ctx) {
    const lru = new LRUCache({
      max: ctx.capacity,
      ttl: ctx.ttlMs,
      // The fetcher travels as the fetch context, so one cache serves every call site.
      fetchMethod: (_key, _stale, { context }) => context(),
    });
    return {
      get: (key) => lru.get(key),
      set: (key, value) => {
        lru.set(key, value);
      },
      getOrSet: (key, fetcher) => lru.fetch(key, { context: fetcher }),
      async teardown() {},
    };
  },
};
