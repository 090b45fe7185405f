import { Redis } from 'ioredis';
import { handWrittenGetOrSet } from '../lib/handles.mjs';

/** ioredis by hand, defaults (no auto-pipelining: the README offers it as an opt-in), JSON text values. */
export default {
  name: 'ioredis',
  tier: 'redis',
  packages: ['ioredis'],
  config: '`new Redis(url)`; GET + `JSON.parse`, SET PX + `JSON.stringify`; getOrSet = GET, else fetch + SET',
  async setup(ctx) {
    const redis = new Redis(ctx.redisUrl);
    redis.on('error', () => {});
    const full = (key) => `${ctx.prefix}:${key}`;
    const get = async (key) => {
      const text = await redis.get(full(key));
      return text === null ? undefined : JSON.parse(text);
    };
    const set = async (key, value) => {
      await redis.set(full(key), JSON.stringify(value), 'PX', ctx.ttlMs);
    };
    return {
      get,
      set,
      getOrSet: handWrittenGetOrSet(get, set),
      teardown: async () => {
        await redis.quit();
      },
    };
  },
};
