import { type Cache, ttl } from '@org/cache-core';
import { z } from 'zod';
import { invoiceSchema } from '../schemas.js';
import type { WhmcsSimulator } from '../upstream/whmcs.js';

/**
 * The seed's WhmcsCacheService: WHMCS sends no change events, so invoices live on a plain
 * 90-second TTL. When WHMCS fails, an entry up to 10 minutes past its TTL is served instead
 * (a counted stale hit) rather than a 502.
 */
export function createInvoices(cache: Cache, options: { whmcs: WhmcsSimulator }) {
  const { whmcs } = options;
  const domain = cache.domain('invoices', {
    strategy: ttl('90s'),
    grace: '10m',
    buckets: {
      invoices: { schema: z.array(invoiceSchema) },
    },
  });

  return {
    domain,

    /** `invoices:invoices:<clientId>`, tagged `client:<clientId>`. */
    list(clientId: number) {
      whmcs.usage.requests++;
      return domain.buckets.invoices.getOrSet(
        clientId,
        ({ signal }) => whmcs.invoices(clientId, { signal }),
        {
          tags: [`client:${clientId}`],
        },
      );
    },
  };
}

export type Invoices = ReturnType<typeof createInvoices>;
