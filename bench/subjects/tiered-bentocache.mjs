import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { bentoFreshness } from '../lib/handles.mjs';

/** bentocache multi-tier as its docs set it up: memory L1, Redis L2, Redis bus keeping L1s in sync. */
export default {
  name: 'bentocache',
  tier: 'tiered',
  packages: ['bentocache', 'ioredis', '@boringnode/bus'],
  config:
    '`bentostore().useL1Layer(memoryDriver({ maxItems })).useL2Layer(redisDriver({ connection })).useBus(redisBusDriver({ connection }))`',
  async setup(ctx) {
    const { hostname, port } = new URL(ctx.redisUrl);
    const connection = { host: hostname, port: Number(port) };
    const bento = new BentoCache({
      default: 'cache',
      prefix: ctx.prefix,
      ttl: ctx.ttlMs,
      stores: {
        cache: bentostore()
          .useL1Layer(memoryDriver({ maxItems: ctx.capacity }))
          .useL2Layer(redisDriver({ connection }))
          .useBus(redisBusDriver({ connection })),
      },
    });
    return {
      get: (key) => bento.get({ key }),
      set: (key, value) => bento.set({ key, value }),
      getOrSet: (key, fetcher) => bento.getOrSet({ key, factory: fetcher }),
      freshness: bentoFreshness(bento),
      teardown: () => bento.disconnect(),
    };
  },
};
