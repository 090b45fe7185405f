import { createClient } from '@redis/client';
import { handWrittenGetOrSet } from '../lib/handles.mjs';

/** Baseline of the redis tier: node-redis v5 by hand, JSON text values, one connection. */
export default {
  name: 'raw @redis/client',
  tier: 'redis',
  baseline: true,
  packages: ['@redis/client'],
  config:
    '`createClient({ url })`; GET + `JSON.parse`, SET PX + `JSON.stringify`; getOrSet = GET, else fetch + SET',
  async setup(ctx) {
    const client = createClient({ url: ctx.redisUrl });
    client.on('error', () => {}); // a dropped connection fails the calls, which fails the run
    await client.connect();
    const full = (key) => `${ctx.prefix}:${key}`;
    const get = async (key) => {
      const text = await client.get(full(key));
      return text === null ? undefined : JSON.parse(text);
    };
    const set = async (key, value) => {
      await client.set(full(key), JSON.stringify(value), { expiration: { type: 'PX', value: ctx.ttlMs } });
    };
    return {
      get,
      set,
      getOrSet: handWrittenGetOrSet(get, set),
      teardown: () => client.close(),
    };
  },
};
