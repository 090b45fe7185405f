import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { bentoFreshness } from '../lib/handles.mjs';

/** bentocache with its Redis driver only (ioredis inside), as in its cache-drivers docs. */
export default {
  name: 'bentocache',
  tier: 'redis',
  packages: ['bentocache', 'ioredis'],
  config:
    '`new BentoCache({ stores: { cache: bentostore().useL2Layer(redisDriver({ connection: { host, port } })) } })`',
  async setup(ctx) {
    const { hostname, port } = new URL(ctx.redisUrl);
    const bento = new BentoCache({
      default: 'cache',
      prefix: ctx.prefix,
      ttl: ctx.ttlMs,
      stores: {
        cache: bentostore().useL2Layer(redisDriver({ connection: { host: hostname, port: Number(port) } })),
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
