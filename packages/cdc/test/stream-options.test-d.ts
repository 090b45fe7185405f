import {
  type RedisStreamPublisherOptions,
  type RedisStreamSourceOptions,
  redisStreamPublisher,
  redisStreamSource,
} from '@org/cache-cdc';
import { describe, expectTypeOf, it } from 'vitest';

// Where the stream is must be said: url or client, never an implicit localhost.
describe('redisStreamSource() and redisStreamPublisher() connection options', () => {
  const names = { stream: 'cdc', group: 'bff', consumer: 'pod-1' };

  it('take exactly one of url and client', () => {
    expectTypeOf<{
      url: string;
      stream: string;
      group: string;
      consumer: string;
    }>().toExtend<RedisStreamSourceOptions>();
    expectTypeOf<{ url: string; stream: string }>().toExtend<RedisStreamPublisherOptions>();
    expectTypeOf<{
      stream: string;
      group: string;
      consumer: string;
    }>().not.toExtend<RedisStreamSourceOptions>();
    expectTypeOf<{ stream: string }>().not.toExtend<RedisStreamPublisherOptions>();
  });

  it('refuse a missing or possibly-undefined url at compile time', () => {
    const fromEnv = process.env.REDIS_URL;
    // @ts-expect-error: no default server
    redisStreamSource({ ...names });
    // @ts-expect-error: no default server
    redisStreamSource({ url: undefined, ...names });
    // @ts-expect-error: string | undefined is not a url
    redisStreamSource({ url: fromEnv, ...names });
    // @ts-expect-error: no default server
    redisStreamPublisher({ stream: 'cdc' });
    // @ts-expect-error: no default server
    redisStreamPublisher({ url: undefined, stream: 'cdc' });
  });
});
