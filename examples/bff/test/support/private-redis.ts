import { type RedisServer, startRedisServer } from '@org/cache-test-support';
import { afterAll, beforeAll } from 'vitest';
import { BffClient } from './bff-client.js';
import { type BffProcess, startBff } from './service.js';

/** A private redis-server and the service on it; filled in by `beforeAll`. */
export interface BffOnRedis {
  redis: RedisServer;
  service: BffProcess;
  client: BffClient;
}

/**
 * Registers the hooks that start a redis-server of the test file's own (stopped by pid) and the
 * built service on it with `env` added, and stop both after the file's tests.
 */
export function bffOnPrivateRedis(env: Record<string, string> = {}): BffOnRedis {
  const deployment = {} as BffOnRedis;
  beforeAll(async () => {
    deployment.redis = await startRedisServer();
    deployment.service = await startBff({ REDIS_URL: deployment.redis.url, ...env });
    deployment.client = new BffClient(deployment.service.url);
  }, 30_000);
  afterAll(async () => {
    await deployment.service?.stop();
    await deployment.redis?.stop();
  });
  return deployment;
}
