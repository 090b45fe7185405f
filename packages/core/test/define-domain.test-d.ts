import { createCache, type Domain, type DomainOf, defineDomain, eventDriven } from '@org/cache-core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const orderSummary = z.object({ id: z.string(), total: z.number() });
type OrderSummary = z.output<typeof orderSummary>;

const orders = defineDomain('orders', {
  strategy: eventDriven({ safetyTtl: '12h' }),
  buckets: { summaries: { schema: z.array(orderSummary) }, notes: {} },
});

describe('defineDomain', () => {
  it('keeps the literal name and the bucket types', () => {
    expectTypeOf(orders.name).toEqualTypeOf<'orders'>();
    type Orders = DomainOf<typeof orders>;
    expectTypeOf<Orders>().toEqualTypeOf<Domain<typeof orders.buckets>>();
    const domain = {} as Orders;
    expectTypeOf(domain.buckets.summaries.get('001')).resolves.toEqualTypeOf<OrderSummary[] | undefined>();
    expectTypeOf(domain.buckets.notes.get<string>('001')).resolves.toEqualTypeOf<string | undefined>();
  });

  it('is what cache.domain() takes, with the same type as declaring it inline', () => {
    const cache = createCache({ store: new Map() });
    const domain = cache.domain(orders.name, orders);
    expectTypeOf(domain).toEqualTypeOf<DomainOf<typeof orders>>();
  });

  it('refuses a domain without buckets', () => {
    // @ts-expect-error buckets are required
    defineDomain('orders', {});
  });
});
