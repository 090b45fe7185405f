import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';

/** bentocache with its memory driver only, default options (the driver serializes entries by default). */
export default {
  name: 'bentocache',
  tier: 'memory',
  packages: ['bentocache'],
  config:
    '`new BentoCache({ stores: { cache: bentostore().useL1Layer(memoryDriver({ maxItems })) } })`, driver defaults (serialize: true)',
  async setup(ctx) {
    const bento = new BentoCache({
      default: 'cache',
      prefix: ctx.prefix,
      ttl: ctx.ttlMs,
      stores: { cache: bentostore().useL1Layer(memoryDriver({ maxItems: ctx.capacity })) },
    });
    return {
      get: (key) => bento.get({ key }),
      set: (key, value) => bento.set({ key, value }),
      getOrSet: (key, fetcher) => bento.getOrSet({ key, factory: fetcher }),
      teardown: () => bento.disconnect(),
    };
  },
};
