import { createCache, ttl } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';

/** Ours on Redis, as the README shows it: redisStore({ url }) behind createCache(), defaults otherwise. */
export default {
  name: 'ours: redisStore()',
  tier: 'redis',
  packages: ['@org/cache-core', '@org/cache-redis'],
  config:
    '`createCache({ store: redisStore({ url }), prefix, strategy: ttl(ttl) })` (cross-process leases on by default)',
  async setup(ctx) {
    const cache = createCache({
      store: redisStore({ url: ctx.redisUrl }),
      prefix: ctx.prefix,
      strategy: ttl(ctx.ttlMs),
    });
    return {
      // The CDC scenarios build an invalidator on the cache itself.
      cache,
      get: (key) => cache.get(key),
      set: (key, value) => cache.set(key, value),
      getOrSet: (key, fetcher) => cache.getOrSet(key, fetcher),
      teardown: () => cache.close(),
    };
  },
};
