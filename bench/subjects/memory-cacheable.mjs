import { Cacheable, createKeyv } from 'cacheable';

/** cacheable 2.5 in memory only: its primary store bounded with an LRU, as its README recommends. */
export default {
  name: 'cacheable',
  tier: 'memory',
  packages: ['cacheable', 'keyv'],
  config: '`new Cacheable({ primary: createKeyv({ ttl, lruSize }), ttl })`; getOrSet = `getOrSet()`',
  async setup(ctx) {
    const cache = new Cacheable({
      primary: createKeyv({ ttl: ctx.ttlMs, lruSize: ctx.capacity }),
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
