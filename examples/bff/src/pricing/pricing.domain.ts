import { defineDomain, hybrid } from '@org/cache-core';
import { availabilitySchema } from '../schemas.js';

/**
 * Volatile data (stock and list price): a short TTL bounds how stale it can get, and a Product2
 * change event drops it earlier through the same `product:<id>` tag as the catalog.
 */
export const pricingDomain = defineDomain('pricing', {
  strategy: hybrid({ ttl: '60s' }),
  buckets: {
    availability: { schema: availabilitySchema },
  },
});
