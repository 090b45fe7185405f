import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../../packages/redis/test/support/redis-server.js';
import { redisCommand } from '../../../packages/redis/test/support/resp.js';
import { BffClient } from './support/bff-client.js';
import { cacheScenarios } from './support/scenarios.js';
import { type BffProcess, startBff } from './support/service.js';

describe('the BFF on a single Redis store, with the in-process change-event source', {
  timeout: 30_000,
}, () => {
  let redis: RedisServer;
  let service: BffProcess;
  let client: BffClient;

  beforeAll(async () => {
    redis = await startRedisServer();
    service = await startBff({ REDIS_URL: redis.url, CDC_SOURCE: 'in-process', CACHE_PREFIX: 'bffsingle' });
    client = new BffClient(service.url);
  }, 30_000);

  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
  });

  it('runs on redisStore', async () => {
    expect(service.output()).toMatch(/store: +redis 127\.0\.0\.1:\d+ \(redis\)/);
    expect(service.output()).toContain('cdc source: in-process');
    expect((await client.dashboard()).store.kind).toBe('redis');
  });

  it('keeps its entries in Redis under the configured prefix, as domain:type:identifier', async () => {
    await client.getOk('/api/orders/001KEYS');
    const keys = await redisCommand(redis.port, ['KEYS', 'bffsingle:orders:*']);
    expect(keys).toContain('bffsingle:orders:summaries:001KEYS');
  });

  cacheScenarios(() => client, { safetyTtlSeconds: 43_200 });
});
