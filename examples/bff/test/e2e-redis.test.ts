import { redisCommand } from '@org/cache-test-support';
import { describe, expect, it } from 'vitest';
import { bffOnPrivateRedis } from './support/private-redis.js';
import { cacheScenarios } from './support/scenarios.js';

describe('the BFF on a single Redis store, with the in-process change-event source', {
  timeout: 30_000,
}, () => {
  const deployment = bffOnPrivateRedis({ CDC_SOURCE: 'in-process', CACHE_PREFIX: 'bffsingle' });

  it('runs on redisStore', async () => {
    expect(deployment.service.output()).toMatch(/store: +redis 127\.0\.0\.1:\d+ \(redis\)/);
    expect(deployment.service.output()).toContain('cdc source: in-process');
    expect((await deployment.client.dashboard()).store.kind).toBe('redis');
  });

  it('keeps its entries in Redis under the configured prefix, as domain:type:identifier', async () => {
    await deployment.client.getOk('/api/orders/001KEYS');
    const keys = await redisCommand(deployment.redis.port, ['KEYS', 'bffsingle:orders:*']);
    expect(keys).toContain('bffsingle:orders:summaries:001KEYS');
  });

  cacheScenarios(() => deployment.client, { safetyTtlSeconds: 43_200 });
});
