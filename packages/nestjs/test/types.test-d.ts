import type { Domain, DomainOf } from '@org/cache-core';
import { Cached, CacheEvict } from '@org/cache-nestjs';
import { describe, expectTypeOf, it } from 'vitest';
import { type OrderSummary, ordersDomain } from './support/domains.js';

describe('injected domains', () => {
  it('carry their buckets value types, with no cast', () => {
    class OrdersCacheService {
      constructor(readonly orders: DomainOf<typeof ordersDomain>) {}
      summaries(id: string) {
        return this.orders.buckets.summaries.getOrSet(id, async () => [] as OrderSummary[]);
      }
    }
    expectTypeOf<ReturnType<OrdersCacheService['summaries']>>().toEqualTypeOf<Promise<OrderSummary[]>>();
    expectTypeOf<DomainOf<typeof ordersDomain>>().toEqualTypeOf<Domain<typeof ordersDomain.buckets>>();
  });
});

describe('@Cached / @CacheEvict', () => {
  it('take the arguments of the method they decorate', () => {
    class Service {
      @Cached({ key: (id: string) => `accounts:${id}`, tags: (id: string) => [`account:${id}`] })
      async account(id: string, _verbose?: boolean): Promise<{ id: string }> {
        return { id };
      }

      // @ts-expect-error the key takes a number, the method a string
      @Cached({ key: (id: number) => `accounts:${id}` })
      async wrongKey(id: string): Promise<string> {
        return id;
      }

      // @ts-expect-error only async methods: the result goes through getOrSet
      @Cached({ key: (id: string) => id })
      syncMethod(id: string): string {
        return id;
      }

      @CacheEvict({ keys: (id: string) => [`accounts:${id}`] })
      async rename(id: string, _name: string): Promise<void> {
        void id;
      }
    }
    expectTypeOf<Service['account']>().returns.resolves.toEqualTypeOf<{ id: string }>();
  });
});

describe('@Cached({ domain, bucket, id })', () => {
  it("takes the definition's bucket names and the method's arguments", () => {
    class Service {
      @Cached({ domain: ordersDomain, bucket: 'summaries', id: (accountId: string) => accountId })
      async summaries(accountId: string): Promise<OrderSummary[]> {
        return [{ id: accountId, total: 1 }];
      }

      // @ts-expect-error ordersDomain has no bucket 'summary'
      @Cached({ domain: ordersDomain, bucket: 'summary', id: (accountId: string) => accountId })
      async typo(accountId: string): Promise<OrderSummary[]> {
        return [{ id: accountId, total: 1 }];
      }

      // @ts-expect-error the id takes a number, the method a string
      @Cached({ domain: ordersDomain, bucket: 'notes', id: (n: number) => n })
      async wrongId(accountId: string): Promise<string> {
        return accountId;
      }

      // by name, as @InjectDomain('orders') takes it: any bucket name (checked at start-up)
      @Cached({ domain: 'orders', bucket: 'notes', id: (accountId: string) => [accountId, 'latest'] })
      async byName(accountId: string): Promise<string> {
        return accountId;
      }
    }
    expectTypeOf<Service['summaries']>().returns.resolves.toEqualTypeOf<OrderSummary[]>();
  });

  it('takes a key or a bucket, not both', () => {
    class Service {
      // @ts-expect-error key and bucket together
      @Cached({ key: (id: string) => id, domain: ordersDomain, bucket: 'notes', id: (id: string) => id })
      async both(id: string): Promise<string> {
        return id;
      }
    }
    void Service;
  });
});
