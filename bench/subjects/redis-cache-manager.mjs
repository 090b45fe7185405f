import { createKeyv } from '@keyv/redis';
import { createCache } from 'cache-manager';
import { cacheManagerFreshness, handWrittenLoadPage } from '../lib/handles.mjs';

/** cache-manager 7 on Redis as its README shows: one store from @keyv/redis's createKeyv(). */
export default {
  name: 'cache-manager',
  tier: 'redis',
  packages: ['cache-manager', '@keyv/redis', 'keyv'],
  config:
    "`createCache({ stores: [createKeyv(url, { namespace })] })` (createKeyv from '@keyv/redis'); getOrSet = `wrap()`",
  async setup(ctx) {
    const cache = createCache({
      stores: [createKeyv(ctx.redisUrl, { namespace: ctx.prefix })],
      ttl: ctx.ttlMs,
    });
    return {
      get: (key) => cache.get(key),
      set: (key, value) => cache.set(key, value, ctx.ttlMs),
      getOrSet: (key, fetcher) => cache.wrap(key, fetcher, ctx.ttlMs),
      loadPage: handWrittenLoadPage(
        (keys) => cache.mget(keys),
        (entries) => cache.mset(entries.map((entry) => ({ ...entry, ttl: ctx.ttlMs }))),
      ),
      freshness: cacheManagerFreshness(cache),
      teardown: () => cache.disconnect(),
    };
  },
};
