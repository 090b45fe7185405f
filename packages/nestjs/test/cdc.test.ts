import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type InProcessSource, type Invalidator, inProcessSource } from '@org/cache-cdc';
import { type Cache, cacheKey } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { Cached, CacheModule, getCacheToken } from '@org/cache-nestjs';
import { CacheCdcModule, getInvalidatorToken } from '@org/cache-nestjs/cdc';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/app.js';
import { RecordingLogger } from './support/recording-logger.js';

@Injectable()
class OrdersService {
  fetches = 0;

  @Cached({ key: (id: string) => cacheKey('orders', id), tags: (id: string) => [`order:${id}`] })
  async order(id: string): Promise<{ id: string; fetch: number }> {
    this.fetches++;
    return { id, fetch: this.fetches };
  }
}

const SOURCE = 'order-events';

@Module({ providers: [{ provide: SOURCE, useFactory: () => inProcessSource() }], exports: [SOURCE] })
class EventsModule {}

const orderChanged = (id: string, changeId: string) => ({
  source: 'salesforce',
  entity: 'Order',
  ids: [id],
  kind: 'update' as const,
  changeId,
});

async function start(logger?: RecordingLogger) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CacheModule.forRoot({ store: memoryStore(), prefix: 'cdc', logger: false }),
      CacheCdcModule.forRootAsync({
        imports: [EventsModule],
        inject: [SOURCE],
        useFactory: (source: InProcessSource) => ({
          rules: {
            Order: { record: (id: string) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
          },
          sources: [source],
          logger: logger ?? false,
          logInterval: '200ms',
        }),
      }),
    ],
    providers: [OrdersService],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const source = app.get<InProcessSource>(SOURCE);
  // Before the application has started, the source is not subscribed: no event reaches a half-built app.
  expect(source.health().status).toBe('down');
  await app.init();
  return { app, source, orders: app.get(OrdersService), cache: app.get<Cache>(getCacheToken()) };
}

describe('CacheCdcModule', () => {
  it('subscribes the sources at bootstrap: a change event drops the cached order', async () => {
    const { app, source, orders } = await start();
    await orders.order('801');
    expect((await orders.order('801')).fetch).toBe(1);
    expect(await source.emit(orderChanged('801', 'tx-1'))).toMatchObject({ status: 'applied', tags: 1 });
    expect((await orders.order('801')).fetch).toBe(2);
    await app.close();
  });

  it("joins the invalidator's health to cache.health()", async () => {
    const { app, source, cache } = await start();
    await source.emit(orderChanged('1', 'tx-2'));
    const health = await cache.health();
    expect(health.checks.cdc).toMatchObject({
      status: 'up',
      counters: { processed: 1 },
      sources: { 'in-process': { status: 'up' } },
    });
    expect(app.get<Invalidator>(getInvalidatorToken()).counters().processed).toBe(1);
    await app.close();
  });

  it('stops the sources before shutdown', async () => {
    const { app, source } = await start();
    await app.close();
    expect(source.health().status).toBe('down');
    await expect(source.emit(orderChanged('1', 'tx-3'))).rejects.toMatchObject({ code: 'E_CLOSED' });
  });

  it('reports malformed events to the logger, rate-limited', async () => {
    const logger = new RecordingLogger();
    const { app, source } = await start(logger);
    for (let i = 0; i < 3; i++)
      await expect(source.emit({ entity: 'Order' })).rejects.toMatchObject({ code: 'E_INVALID_EVENT' });
    await waitFor(() => logger.lines.length > 0, 20_000, 'a log line');
    // Usually one line for the three; a slow poll may split them, but never into more than 3 lines.
    expect(
      logger.matching('warn', /^\d malformed change event\(s\) dropped: /).length,
    ).toBeGreaterThanOrEqual(1);
    expect(logger.lines.length).toBeLessThanOrEqual(3);
    await app.close();
  });

  it('refuses a factory without rules', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CacheModule.forRoot({ store: memoryStore(), logger: false }),
        CacheCdcModule.forRootAsync({ useFactory: () => ({ rules: null as never }) }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
  });
});
