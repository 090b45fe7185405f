import { createKeyv } from '@keyv/redis';
import { Cacheable } from 'cacheable';

/** cacheable 2.5 with @keyv/redis as its only (primary) store. */
export default {
  name: 'cacheable',
  tier: 'redis',
  packages: ['cacheable', '@keyv/redis', 'keyv'],
  config: "`new Cacheable({ primary: createKeyv(url, { namespace }), ttl })` (createKeyv from '@keyv/redis')",
  async setup(ctx) {
    const cache = new Cacheable({
      primary: createKeyv(ctx.redisUrl, { namespace: ctx.prefix }),
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
