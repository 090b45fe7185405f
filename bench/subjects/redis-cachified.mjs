import { cachified, createCacheEntry } from '@epic-web/cachified';
import { createClient } from '@redis/client';
import { redisCacheAdapter } from 'cachified-redis-adapter';

/**
 * @epic-web/cachified on Redis through the adapter its README links (cachified-redis-adapter: JSON
 * text, EXAT at the end of ttl + swr) over a node-redis v5 client. Its `staleWhileRevalidate` is
 * the feature hot-key-expiry compares, so that is the only scenario it runs in.
 */
export default {
  name: 'cachified',
  tier: 'redis',
  packages: ['@epic-web/cachified', 'cachified-redis-adapter', '@redis/client'],
  scenarios: ['hot-key-expiry'],
  config:
    '`cachified({ key, cache: redisCacheAdapter(createClient({ url })), getFreshValue, ttl })` (cachified-redis-adapter), keys prefixed by hand',
  async setup(ctx) {
    const client = createClient({ url: ctx.redisUrl });
    client.on('error', () => {}); // a dropped connection fails the calls, which fails the run
    await client.connect();
    // One adapter object for every call: cachified coalesces concurrent fetches per cache object.
    const cache = redisCacheAdapter(client);
    const full = (key) => `${ctx.prefix}:${key}`;
    return {
      get: async (key) => (await cache.get(full(key)))?.value,
      set: (key, value) => cache.set(full(key), createCacheEntry(value, { ttl: ctx.ttlMs })),
      getOrSet: (key, getFreshValue) => cachified({ key: full(key), cache, getFreshValue, ttl: ctx.ttlMs }),
      freshness: {
        swr: (key, getFreshValue, p) =>
          cachified({ key: full(key), cache, getFreshValue, ttl: p.ttlMs, staleWhileRevalidate: p.graceMs }),
      },
      teardown: () => client.close(),
    };
  },
};
