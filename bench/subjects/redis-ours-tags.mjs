import { createCache, ttl } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { cacheHandle } from '../lib/handles.mjs';

/** Ours on Redis with tag tokens kept in process and invalidated by Redis (client tracking). */
export default {
  name: 'ours: redisStore({ trackTagTokens: true })',
  tier: 'redis',
  packages: ['@org/cache-core', '@org/cache-redis'],
  // What it changes is the tagged read; everything else is redis-ours plus a connection.
  scenarios: ['get-hit-tagged'],
  config: '`createCache({ store: redisStore({ url, trackTagTokens: true }) })`',
  async setup(ctx) {
    const store = redisStore({ url: ctx.redisUrl, trackTagTokens: true });
    const cache = createCache({ store, prefix: ctx.prefix, strategy: ttl(ctx.ttlMs) });
    await store.tagTracking?.ready();
    return cacheHandle(cache);
  },
};
