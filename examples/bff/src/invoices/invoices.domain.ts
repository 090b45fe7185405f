import { defineDomain, ttl } from '@org/cache-core';
import { z } from 'zod';
import { invoiceSchema } from '../schemas.js';

/**
 * The seed's WHMCS cache: WHMCS sends no change events, so invoices live on a plain 90-second
 * TTL. When WHMCS fails, an entry up to 10 minutes past its TTL is served instead (a counted
 * stale hit) rather than a 502.
 */
export const invoicesDomain = defineDomain('invoices', {
  strategy: ttl('90s'),
  grace: '10m',
  buckets: {
    invoices: { schema: z.array(invoiceSchema) },
  },
});
