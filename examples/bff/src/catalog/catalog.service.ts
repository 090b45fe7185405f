import { Inject, Injectable } from '@nestjs/common';
import type { DomainOf } from '@org/cache-core';
import { InjectDomain } from '@org/cache-nestjs';
import { SalesforceSimulator } from '../upstream/salesforce.js';
import { catalogDomain } from './catalog.domain.js';

/** The seed's CatalogCacheService: products and bundles, from Salesforce. */
@Injectable()
export class CatalogService {
  constructor(
    @InjectDomain(catalogDomain) private readonly catalog: DomainOf<typeof catalogDomain>,
    @Inject(SalesforceSimulator) private readonly salesforce: SalesforceSimulator,
  ) {}

  /** `catalog:products:<productId>`, tagged `product:<productId>`. */
  product(productId: string) {
    this.salesforce.usage.requests++;
    return this.catalog.buckets.products.getOrSet(
      productId,
      ({ signal }) => this.salesforce.product(productId, { signal }),
      { tags: [`product:${productId}`] },
    );
  }

  /** `catalog:bundles:<bundleId>`, tagged `product:<id>` for every product in it. */
  bundle(bundleId: string) {
    this.salesforce.usage.requests++;
    return this.catalog.buckets.bundles.getOrSet(
      bundleId,
      ({ signal }) => this.salesforce.bundle(bundleId, { signal }),
      { tags: (bundle) => bundle.items.map((item) => `product:${item.product.id}`) },
    );
  }
}
