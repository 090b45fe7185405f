import { defineDomain } from '@org/cache-core';
import { bundleSchema, productSchema } from '../schemas.js';

/**
 * The seed's catalog cache: products and bundles made of products, event-driven (the cache's
 * default). A bundle is tagged with each of its products, so a Product2 change drops exactly the
 * bundles that contain that product (dependency tracking) and leaves the others cached.
 */
export const catalogDomain = defineDomain('catalog', {
  buckets: {
    products: { schema: productSchema },
    bundles: { schema: bundleSchema },
  },
});
