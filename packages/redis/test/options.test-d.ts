import { type RedisBusOptions, type RedisStoreOptions, redisBus, redisStore } from '@org/cache-redis';
import { describe, expectTypeOf, it } from 'vitest';

// Where Redis is must be said: one of url, client, cluster or sentinel, never an implicit localhost.
describe('redisStore() and redisBus() connection options', () => {
  it('take exactly one of url, client, cluster or sentinel', () => {
    expectTypeOf<{ url: string }>().toExtend<RedisStoreOptions>();
    expectTypeOf<{ cluster: { rootNodes: Array<{ url: string }> } }>().toExtend<RedisStoreOptions>();
    expectTypeOf<{ url: string; channel: string }>().toExtend<RedisBusOptions>();
    expectTypeOf<{ url: string; scanCount: number; namespace: string }>().toExtend<RedisStoreOptions>();
    expectTypeOf<{ url: string; cluster: { rootNodes: [] } }>().not.toExtend<RedisStoreOptions>();
    expectTypeOf<{ scanCount: number }>().not.toExtend<RedisStoreOptions>();
  });

  it('refuse a missing or possibly-undefined url at compile time', () => {
    const fromEnv = process.env.REDIS_URL;
    // @ts-expect-error: no default server
    redisStore({ url: undefined });
    // @ts-expect-error: string | undefined is not a url
    redisStore({ url: fromEnv });
    // @ts-expect-error: nothing says where Redis is
    redisStore({});
    // @ts-expect-error: nothing says where Redis is
    redisStore({ scanCount: 100 });
    // @ts-expect-error: the options are required
    redisStore();
    // @ts-expect-error: no default server
    redisBus({ channel: 'app:bus' });
    // @ts-expect-error: the options are required
    redisBus();
    // @ts-expect-error: one topology, not two
    redisBus({ url: 'redis://a:6379', cluster: { rootNodes: [{ url: 'redis://b:6379' }] } });
    if (fromEnv !== undefined) redisStore({ url: fromEnv });
  });
});
