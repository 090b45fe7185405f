import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { Cache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { CacheHealthIndicator, CacheModule, getCacheToken } from '@org/cache-nestjs';
import { redisStore } from '@org/cache-redis';
import {
  type RedisServer,
  startRedisServer,
  stopAllRedisServers,
  uniquePrefix,
} from '@org/cache-test-support';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getJson, type RunningApp, startApp, waitFor } from './support/app.js';

@Controller()
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(CacheHealthIndicator) private readonly cache: CacheHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.cache.isHealthy('cache'),
      () => this.cache.isHealthy('catalog', { cache: 'catalog' }),
    ]);
  }
}

let running: RunningApp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});
afterAll(() => stopAllRedisServers());

async function start(store: Parameters<typeof CacheModule.forRoot>[0]['store']) {
  running = await startApp({
    imports: [
      TerminusModule,
      CacheModule.forRoot({ store, prefix: uniquePrefix('health'), logger: false }),
      CacheModule.forRoot({ name: 'catalog', store: memoryStore(), prefix: 'catalog', logger: false }),
    ],
    controllers: [HealthController],
    // CacheHealthIndicator is not listed: CacheModule provides it (test/workers/close-app.mjs lists it).
  });
  return running;
}

describe('CacheHealthIndicator with @nestjs/terminus', () => {
  it('answers 503 while a private Redis is killed and 200 once it is back', async () => {
    const server: RedisServer = await startRedisServer();
    const { url } = await start(redisStore({ url: server.url }));
    const healthy = await getJson(`${url}/health`);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({
      status: 'ok',
      info: {
        cache: { status: 'up', cacheStatus: 'up', store: { status: 'up' } },
        catalog: { status: 'up' },
      },
    });

    await server.kill();
    let down: Awaited<ReturnType<typeof getJson>> | undefined;
    await waitFor(
      async () => {
        down = await getJson(`${url}/health`);
        return down.status === 503;
      },
      30_000,
      '/health to answer 503 after the kill',
    );
    expect(down?.body).toMatchObject({
      status: 'error',
      error: { cache: { status: 'down', cacheStatus: 'down', store: { status: 'down' } } },
      info: { catalog: { status: 'up' } },
    });

    await server.restart();
    await waitFor(
      async () => (await getJson(`${url}/health`)).status === 200,
      30_000,
      '/health to answer 200 after the restart',
    );
  });

  it('a degraded cache stays up (200) and says why', async () => {
    const { url, app } = await start(memoryStore());
    app
      .get<Cache>(getCacheToken())
      .addHealthCheck('subscriber', () => ({ status: 'degraded', reason: 'lagging 90 s' }));
    const response = await getJson(`${url}/health`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      info: {
        cache: {
          cacheStatus: 'degraded',
          checks: { subscriber: { status: 'degraded', reason: 'lagging 90 s' } },
        },
      },
    });
    // terminus 12.1's degraded(): the indicator is marked degraded, the request still succeeds
    expect((response.body as { info: { cache: { status: string } } }).info.cache.status).toBe('degraded');
  });

  it('refuses a cache name no module provides, naming it', async () => {
    const { app } = await start(memoryStore());
    await expect(app.get(CacheHealthIndicator).isHealthy('x', { cache: 'missing' })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining("cache named 'missing'"),
    });
  });
});
