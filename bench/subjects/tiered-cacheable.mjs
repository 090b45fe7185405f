import { createKeyvNonBlocking } from '@keyv/redis';
import { Cacheable, createKeyv } from 'cacheable';

/**
 * cacheable 2.5 two-tier as its README recommends with @keyv/redis ("Non-Blocking with
 * @keyv/redis"): an LRU memory primary, createKeyvNonBlocking() secondary, nonBlocking: true.
 * No CacheableSync: it needs a qified message provider, which the subject list leaves out.
 */
export default {
  name: 'cacheable',
  tier: 'tiered',
  packages: ['cacheable', '@keyv/redis', 'keyv'],
  config:
    '`new Cacheable({ primary: createKeyv({ ttl, lruSize }), secondary: createKeyvNonBlocking(url, { namespace }), nonBlocking: true, ttl })`, no sync',
  async setup(ctx) {
    const cache = new Cacheable({
      primary: createKeyv({ ttl: ctx.ttlMs, lruSize: ctx.capacity }),
      secondary: createKeyvNonBlocking(ctx.redisUrl, { namespace: ctx.prefix }),
      nonBlocking: true,
      ttl: ctx.ttlMs,
    });
    return {
      get: (key) => cache.get(key),
      set: (key, value) => cache.set(key, value),
      getOrSet: (key, fetcher) => cache.getOrSet(key, fetcher),
      teardown: () => cache.disconnect(),
    };
  },
};
