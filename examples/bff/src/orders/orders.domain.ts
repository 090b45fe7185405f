import { defineDomain } from '@org/cache-core';
import { z } from 'zod';
import { orderDetailSchema, orderSummarySchema } from '../schemas.js';

/**
 * The seed's orders cache: Salesforce sends change events for orders, so the entries live until
 * an event drops them (the cache's event-driven default, with the safety TTL as the net for a
 * missed event).
 */
export const ordersDomain = defineDomain('orders', {
  buckets: {
    summaries: { schema: z.array(orderSummarySchema) },
    detail: { schema: orderDetailSchema },
  },
});
