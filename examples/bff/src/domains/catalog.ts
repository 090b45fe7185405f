import { type Cache, eventDriven } from '@org/cache-core';
import { bundleSchema, productSchema } from '../schemas.js';
import type { SalesforceSimulator } from '../upstream/salesforce.js';

/**
 * The seed's CatalogCacheService: products and bundles made of products, event-driven. A bundle
 * is tagged with each of its products, so a Product2 change drops exactly the bundles that
 * contain that product (dependency tracking) and leaves the others cached.
 */
export function createCatalog(
  cache: Cache,
  options: { safetyTtlMs: number; salesforce: SalesforceSimulator },
) {
  const { salesforce } = options;
  const domain = cache.domain('catalog', {
    strategy: eventDriven({ safetyTtl: options.safetyTtlMs }),
    buckets: {
      products: { schema: productSchema },
      bundles: { schema: bundleSchema },
    },
  });

  return {
    domain,

    /** `catalog:products:<productId>`, tagged `product:<productId>`. */
    product(productId: string) {
      salesforce.usage.requests++;
      return domain.buckets.products.getOrSet(
        productId,
        ({ signal }) => salesforce.product(productId, { signal }),
        { tags: [`product:${productId}`] },
      );
    },

    /** `catalog:bundles:<bundleId>`, tagged `product:<id>` for every product in it. */
    bundle(bundleId: string) {
      salesforce.usage.requests++;
      return domain.buckets.bundles.getOrSet(
        bundleId,
        ({ signal }) => salesforce.bundle(bundleId, { signal }),
        { tags: (bundle) => bundle.items.map((item) => `product:${item.product.id}`) },
      );
    },
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
