import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { cacheHandle } from '../lib/handles.mjs';

/** Ours in memory, as the README shows it: a bounded memoryStore() behind createCache(). */
export default {
  name: 'ours: memoryStore()',
  tier: 'memory',
  packages: ['@org/cache-core', '@org/cache-memory'],
  config: '`createCache({ store: memoryStore({ maxEntries }), prefix, strategy: ttl(ttl) })`',
  async setup(ctx) {
    const cache = createCache({
      store: memoryStore({ maxEntries: ctx.capacity }),
      prefix: ctx.prefix,
      strategy: ttl(ctx.ttlMs),
    });
    return cacheHandle(cache);
  },
};
