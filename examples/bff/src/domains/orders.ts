import { type Cache, eventDriven } from '@org/cache-core';
import { z } from 'zod';
import { orderDetailSchema, orderSummarySchema } from '../schemas.js';
import { NotFoundError } from '../upstream/errors.js';
import type { SalesforceSimulator } from '../upstream/salesforce.js';

/**
 * The seed's OrdersCacheService as a domain: Salesforce sends change events for orders, so the
 * entries live until an event drops them, with the safety TTL as the net for a missed event.
 */
export function createOrders(
  cache: Cache,
  options: { safetyTtlMs: number; salesforce: SalesforceSimulator },
) {
  const { salesforce } = options;
  const domain = cache.domain('orders', {
    strategy: eventDriven({ safetyTtl: options.safetyTtlMs }),
    buckets: {
      summaries: { schema: z.array(orderSummarySchema) },
      detail: { schema: orderDetailSchema },
    },
  });

  return {
    domain,

    /** `orders:summaries:<accountId>`, dropped when the account or any of its orders changes. */
    summaries(accountId: string) {
      salesforce.usage.requests++;
      return domain.buckets.summaries.getOrSet(
        accountId,
        ({ signal }) => salesforce.orderSummaries(accountId, { signal }),
        { tags: (orders) => [`account:${accountId}`, ...orders.map((order) => `order:${order.id}`)] },
      );
    },

    /** `orders:detail:<orderId>`; rejects with NotFoundError when the order is not the account's. */
    async detail(accountId: string, orderId: string) {
      salesforce.usage.requests++;
      const order = await domain.buckets.detail.getOrSet(
        orderId,
        ({ signal }) => salesforce.orderDetail(accountId, orderId, { signal }),
        { tags: [`order:${orderId}`, `account:${accountId}`] },
      );
      // The entry is keyed by order id alone: another account asking for it must not see it.
      if (order.accountId !== accountId)
        throw new NotFoundError(`order ${orderId} not found for account ${accountId}`);
      return order;
    },
  };
}

export type Orders = ReturnType<typeof createOrders>;
