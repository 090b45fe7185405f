import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type DomainOf, defineDomain } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { CacheModule, getDomainToken, InjectDomain } from '@org/cache-nestjs';
import { describe, expect, it } from 'vitest';
import './support/app.js';
import { ordersDomain } from './support/domains.js';

@Injectable()
class OrdersCacheService {
  calls = 0;
  constructor(@InjectDomain(ordersDomain) readonly orders: DomainOf<typeof ordersDomain>) {}

  summaries(accountId: string) {
    return this.orders.buckets.summaries.getOrSet(accountId, async () => {
      this.calls++;
      return [{ id: 'o1', total: 10, internal: 'stripped by the schema' }];
    });
  }
}

@Injectable()
class OrdersByName {
  constructor(@InjectDomain('orders') readonly orders: DomainOf<typeof ordersDomain>) {}
}

@Module({
  imports: [CacheModule.forFeature([ordersDomain])],
  providers: [OrdersCacheService],
  exports: [OrdersCacheService],
})
class OrdersModule {}

@Module({
  imports: [CacheModule.forFeature([ordersDomain])],
  providers: [OrdersByName],
  exports: [OrdersByName],
})
class ReportsModule {}

async function init(imports: NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>) {
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

describe('CacheModule.forFeature', () => {
  it('provides the domain with its buckets, schemas and metrics', async () => {
    const app = await init([CacheModule.forRoot({ store: memoryStore(), logger: false }), OrdersModule]);
    const service = app.get(OrdersCacheService);
    const [first, second] = await Promise.all([service.summaries('001'), service.summaries('001')]);
    expect(first).toEqual([{ id: 'o1', total: 10 }]);
    expect(second).toEqual(first);
    expect(service.calls).toBe(1);
    expect(service.orders.stats().metrics.summaries).toMatchObject({ misses: 2, coalesced: 1 });
    await app.close();
  });

  it('two feature modules listing one definition share one Domain', async () => {
    const app = await init([
      CacheModule.forRoot({ store: memoryStore(), logger: false }),
      OrdersModule,
      ReportsModule,
    ]);
    expect(app.get(OrdersCacheService).orders).toBe(app.get(OrdersByName).orders);
    await app.close();
  });

  it('a domain on a named cache lives in that cache, under its own token', async () => {
    const app = await init([
      CacheModule.forRoot({ store: memoryStore(), prefix: 'main', logger: false }),
      CacheModule.forRoot({ name: 'archive', store: memoryStore(), prefix: 'archive', logger: false }),
      CacheModule.forFeature([ordersDomain]),
      CacheModule.forFeature([ordersDomain], 'archive'),
    ]);
    const main = app.get<DomainOf<typeof ordersDomain>>(getDomainToken(ordersDomain));
    const archive = app.get<DomainOf<typeof ordersDomain>>(getDomainToken('orders', 'archive'));
    expect(main).not.toBe(archive);
    await archive.buckets.notes.set('001', 'archived');
    expect(await main.buckets.notes.get('001')).toBeUndefined();
    expect(await archive.buckets.notes.get('001')).toBe('archived');
    await app.close();
  });

  it('refuses two different definitions of one domain on one cache', async () => {
    const impostor = defineDomain('orders', { buckets: { other: {} } });
    await expect(
      init([
        CacheModule.forRoot({ store: memoryStore(), logger: false }),
        CacheModule.forFeature([ordersDomain]),
        CacheModule.forFeature([impostor]),
      ]),
    ).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining('two different definitions'),
    });
  });

  it('refuses what is not a domain definition', () => {
    expect(() => CacheModule.forFeature([{ buckets: {} } as never])).toThrow(/not a domain definition/);
    expect(() => CacheModule.forFeature('orders' as never)).toThrow(/takes an array/);
  });
});
