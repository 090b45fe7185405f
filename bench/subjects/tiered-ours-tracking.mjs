import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import { cacheHandle } from '../lib/handles.mjs';

/** Ours two-tier kept coherent by Redis itself (RESP3 client tracking), no bus. */
export default {
  name: "ours: tieredStore({ coherence: 'tracking' })",
  tier: 'tiered',
  packages: ['@org/cache-core', '@org/cache-memory', '@org/cache-redis', '@org/cache-tiered'],
  scenarios: ['get-hit', 'set', 'get-or-set-hit', 'propagation', 'propagation-raw-set'],
  config:
    "`createCache({ store: tieredStore({ l1: memoryStore({ maxEntries }), l2: redisStore({ url }), coherence: 'tracking' }) })`",
  async setup(ctx) {
    const store = tieredStore({
      l1: memoryStore({ maxEntries: ctx.capacity }),
      l2: redisStore({ url: ctx.redisUrl }),
      coherence: 'tracking',
    });
    const cache = createCache({ store, prefix: ctx.prefix, strategy: ttl(ctx.ttlMs) });
    // Until tracking is on the store rightly bypasses L1: start measuring once it is.
    await store.ready();
    return cacheHandle(cache);
  },
};
