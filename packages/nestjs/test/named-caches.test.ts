import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { CacheModule, getCacheToken, InjectCache } from '@org/cache-nestjs';
import { createTestCache } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import './support/app.js';

async function init(metadata: Parameters<typeof Test.createTestingModule>[0]) {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

describe('named caches', () => {
  it('each name is its own Cache, isolated even on one shared store', async () => {
    const store = memoryStore();
    const app = await init({
      imports: [
        CacheModule.forRoot({ store, prefix: 'main', logger: false }),
        CacheModule.forRoot({ name: 'orders', store, prefix: 'orders', logger: false }),
        CacheModule.forRoot({ name: 'catalog', store: memoryStore(), prefix: 'catalog', logger: false }),
      ],
    });
    const main = app.get<Cache>(getCacheToken());
    const orders = app.get<Cache>(getCacheToken('orders'));
    const catalog = app.get<Cache>(getCacheToken('catalog'));
    expect(new Set([main, orders, catalog]).size).toBe(3);
    expect([main.prefix, orders.prefix, catalog.prefix]).toEqual(['main', 'orders', 'catalog']);
    await orders.set('k', 'from orders');
    await main.set('k', 'from main');
    expect(await orders.get('k')).toBe('from orders');
    expect(await main.get('k')).toBe('from main');
    expect(await catalog.get('k')).toBeUndefined();
    await app.close();
  });

  it('two modules with their own non-global forRoot() each inject their own cache', async () => {
    @Injectable()
    class OrdersReader {
      constructor(@InjectCache() readonly cache: Cache) {}
    }
    @Injectable()
    class CatalogReader {
      constructor(@InjectCache() readonly cache: Cache) {}
    }
    @Module({
      imports: [
        CacheModule.forRoot({ store: memoryStore(), prefix: 'orders', isGlobal: false, logger: false }),
      ],
      providers: [OrdersReader],
    })
    class OrdersModule {}
    @Module({
      imports: [
        CacheModule.forRoot({ store: memoryStore(), prefix: 'catalog', isGlobal: false, logger: false }),
      ],
      providers: [CatalogReader],
    })
    class CatalogModule {}
    const app = await init({ imports: [OrdersModule, CatalogModule] });
    const orders = app.get(OrdersReader).cache;
    const catalog = app.get(CatalogReader).cache;
    expect(orders).not.toBe(catalog);
    expect([orders.prefix, catalog.prefix]).toEqual(['orders', 'catalog']);
    await app.close();
  });

  it('refuses two global caches under one name instead of silently using one', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CacheModule.forRoot({ store: memoryStore(), prefix: 'one', logger: false }),
        CacheModule.forRoot({ store: memoryStore(), prefix: 'two', logger: false }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining("register the cache named 'default'"),
    });
    await app.close();
  });

  it('forRootAsync builds the cache from injected configuration', async () => {
    @Module({ providers: [{ provide: 'CONFIG', useValue: { prefix: 'from-config' } }], exports: ['CONFIG'] })
    class ConfigModule {}
    const app = await init({
      imports: [
        CacheModule.forRootAsync({
          name: 'configured',
          imports: [ConfigModule],
          inject: ['CONFIG'],
          useFactory: async (config: { prefix: string }) => ({
            store: memoryStore(),
            prefix: config.prefix,
            logger: false,
          }),
        }),
      ],
    });
    expect(app.get<Cache>(getCacheToken('configured')).prefix).toBe('from-config');
    await app.close();
  });

  it('a bad option is a typed error when the module starts', async () => {
    await expect(
      init({ imports: [CacheModule.forRoot({ store: memoryStore(), prefix: 'has:colon', logger: false })] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
    expect(() => CacheModule.forRoot({ store: memoryStore(), name: '' })).toThrow(/non-empty string/);
    expect(() => CacheModule.forRootAsync({} as never)).toThrow(/needs useFactory/);
  });
});

describe('lifecycle', () => {
  it('closes the caches it created on shutdown, and leaves a Cache the factory handed in open', async () => {
    const mine = createCache({ store: memoryStore(), prefix: 'mine' });
    const app = await init({
      imports: [
        CacheModule.forRoot({ store: memoryStore(), prefix: 'created', logger: false }),
        CacheModule.forRootAsync({ name: 'handed-in', useFactory: () => mine }),
      ],
    });
    const created = app.get<Cache>(getCacheToken());
    expect(app.get(getCacheToken('handed-in'))).toBe(mine);
    await app.close();
    await expect(created.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' });
    await mine.set('k', 'still open');
    expect(await mine.get('k')).toBe('still open');
    await mine.close();
  });

  it('a named cache overridden in a test is used, and left open', async () => {
    const { cache: testCache, clock } = createTestCache({ prefix: 'catalog' });
    @Injectable()
    class Catalog {
      constructor(@Inject(getCacheToken('catalog')) readonly cache: Cache) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        CacheModule.forRoot({ store: memoryStore(), prefix: 'main', logger: false }),
        CacheModule.forRoot({ name: 'catalog', store: memoryStore(), prefix: 'catalog', logger: false }),
      ],
      providers: [Catalog],
    })
      .overrideProvider(getCacheToken('catalog'))
      .useValue(testCache)
      .compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    const catalog = app.get(Catalog);
    expect(catalog.cache).toBe(testCache);
    await catalog.cache.set('product:1', { price: 10 }, { ttl: '1m' });
    clock.advance('61s');
    expect(await catalog.cache.get('product:1')).toBeUndefined();
    await app.close();
    await testCache.set('k', 1);
    expect(await testCache.get('k')).toBe(1);
  });
});
