import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import { cacheHandle } from '../lib/handles.mjs';

/** Ours two-tier as DESIGN.md shows it: memoryStore() L1, redisStore() L2, redisBus() for coherence. */
export default {
  name: 'ours: tieredStore() + redisBus()',
  tier: 'tiered',
  packages: ['@org/cache-core', '@org/cache-memory', '@org/cache-redis', '@org/cache-tiered'],
  config:
    '`createCache({ store: tieredStore({ l1: memoryStore({ maxEntries }), l2: redisStore({ url }), bus: redisBus({ url, channel }) }) })`',
  async setup(ctx) {
    const bus = redisBus({ url: ctx.redisUrl, channel: `${ctx.prefix}:bus` });
    const store = tieredStore({
      l1: memoryStore({ maxEntries: ctx.capacity }),
      l2: redisStore({ url: ctx.redisUrl }),
      bus,
    });
    const cache = createCache({ store, prefix: ctx.prefix, strategy: ttl(ctx.ttlMs) });
    // Until the bus is subscribed the store rightly bypasses L1: start measuring once it is.
    await bus.ready();
    return cacheHandle(cache, async () => {
      await cache.close();
      await bus.close();
    });
  },
};
