import { type Cache, hybrid } from '@org/cache-core';
import { availabilitySchema } from '../schemas.js';
import type { SalesforceSimulator } from '../upstream/salesforce.js';

/**
 * Volatile data (stock and list price): a short TTL bounds how stale it can get, and a Product2
 * change event drops it earlier through the same `product:<id>` tag as the catalog.
 */
export function createPricing(cache: Cache, options: { salesforce: SalesforceSimulator }) {
  const { salesforce } = options;
  const domain = cache.domain('pricing', {
    strategy: hybrid({ ttl: '60s' }),
    buckets: {
      availability: { schema: availabilitySchema },
    },
  });

  return {
    domain,

    /** `pricing:availability:<productId>`, tagged `product:<productId>`. */
    availability(productId: string) {
      salesforce.usage.requests++;
      return domain.buckets.availability.getOrSet(
        productId,
        ({ signal }) => salesforce.availability(productId, { signal }),
        { tags: [`product:${productId}`] },
      );
    },
  };
}

export type Pricing = ReturnType<typeof createPricing>;
