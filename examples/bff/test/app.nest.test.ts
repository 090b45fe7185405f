import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Cache } from '@org/cache-core';
import { getCacheToken } from '@org/cache-nestjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../src/app.module.js';
import { configureHttp } from '../src/http/configure-http.js';
import { listen } from '../src/startup.js';
import { SalesforceSimulator } from '../src/upstream/salesforce.js';
import { fetchJson } from './support/http.js';

// The application module in this process, through @nestjs/testing, over real HTTP: what a team
// writing tests for its own Nest BFF would do (the other e2e files run the built service).

describe('the AppModule under @nestjs/testing, over HTTP', { timeout: 30_000 }, () => {
  let app: INestApplication;
  let url: string;
  const salesforce = new SalesforceSimulator({ latencyMs: 50 });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        await AppModule.forRoot({
          PORT: '0',
          CACHE_TIER: 'single',
          CDC_SOURCE: 'in-process',
          WHMCS_FAILURE_RATE: '0',
          WHMCS_SLOW_RATE: '0',
        }),
      ],
    })
      // One provider replaced, as in any Nest test: this test counts the upstream's calls itself.
      .overrideProvider(SalesforceSimulator)
      .useValue(salesforce)
      .compile();
    const nest = moduleRef.createNestApplication<NestExpressApplication>({
      bodyParser: false,
      logger: false,
    });
    configureHttp(nest);
    await nest.init();
    app = nest;
    url = await listen(nest.getHttpServer(), 0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers 100 concurrent requests for one account through the controller with 1 upstream call', async () => {
    const before = salesforce.usage.calls;
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetchJson<{ accountId: string; orders: unknown[] }>(`${url}/api/orders/001NESTSTAMPEDE`),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    expect(answers[0]?.body.orders.length).toBeGreaterThan(0);
    expect(salesforce.usage.calls - before).toBe(1);
    expect(salesforce.usage.requests).toBeGreaterThanOrEqual(100);
  });

  it('answers errors as JSON through the app filter: 400, 404, 405 with Allow', async () => {
    expect((await fetchJson(`${url}/api/orders/not-an-id!`)).body).toEqual({
      error: { code: 'INVALID_ID', message: expect.stringContaining('accountId') },
    });
    expect((await fetchJson(`${url}/nowhere`)).status).toBe(404);
    const wrong = await fetchJson(`${url}/dev/cdc/simulator`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST, DELETE, HEAD');
  });

  it('closes the cache it created when the application closes', async () => {
    const cache = app.get<Cache>(getCacheToken());
    expect((await cache.health()).store.status).toBe('up');
    await app.close();
    const health = await cache.health();
    expect(health.store).toMatchObject({ status: 'down', reason: 'cache is closed' });
  });
});
