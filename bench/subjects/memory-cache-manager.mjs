import { createCache } from 'cache-manager';
import { createKeyv } from 'cacheable';
import { handWrittenLoadPage } from '../lib/handles.mjs';

/** cache-manager 7's documented in-memory setup: one Keyv store on CacheableMemory (LRU + TTL). */
export default {
  name: 'cache-manager',
  tier: 'memory',
  packages: ['cache-manager', 'cacheable', 'keyv'],
  config:
    "`createCache({ stores: [createKeyv({ ttl, lruSize })] })` (createKeyv from 'cacheable'); getOrSet = `wrap()`",
  async setup(ctx) {
    const cache = createCache({
      stores: [createKeyv({ ttl: ctx.ttlMs, lruSize: ctx.capacity })],
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
      teardown: () => cache.disconnect(),
    };
  },
};
