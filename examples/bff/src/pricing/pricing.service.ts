import { Inject, Injectable } from '@nestjs/common';
import type { DomainOf } from '@org/cache-core';
import { InjectDomain } from '@org/cache-nestjs';
import { SalesforceSimulator } from '../upstream/salesforce.js';
import { pricingDomain } from './pricing.domain.js';

@Injectable()
export class PricingService {
  constructor(
    @InjectDomain(pricingDomain) private readonly pricing: DomainOf<typeof pricingDomain>,
    @Inject(SalesforceSimulator) private readonly salesforce: SalesforceSimulator,
  ) {}

  /** `pricing:availability:<productId>`, tagged `product:<productId>`. */
  availability(productId: string) {
    this.salesforce.usage.requests++;
    return this.pricing.buckets.availability.getOrSet(
      productId,
      ({ signal }) => this.salesforce.availability(productId, { signal }),
      { tags: [`product:${productId}`] },
    );
  }
}
