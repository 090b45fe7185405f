import { defineDomain, eventDriven } from '@org/cache-core';
import { z } from 'zod';

export const orderSummary = z.object({ id: z.string(), total: z.number() });
export type OrderSummary = z.output<typeof orderSummary>;

export const ordersDomain = defineDomain('orders', {
  strategy: eventDriven({ safetyTtl: '12h' }),
  buckets: { summaries: { schema: z.array(orderSummary) }, notes: {} },
});
