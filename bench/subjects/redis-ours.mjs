import { createCache, ttl } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { cacheHandle } from '../lib/handles.mjs';

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
    return cacheHandle(cache);
  },
};
