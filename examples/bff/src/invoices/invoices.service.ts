import { Inject, Injectable } from '@nestjs/common';
import type { DomainOf } from '@org/cache-core';
import { InjectDomain } from '@org/cache-nestjs';
import { WhmcsSimulator } from '../upstream/whmcs.js';
import { invoicesDomain } from './invoices.domain.js';

/** The seed's WhmcsCacheService: a client's invoices. */
@Injectable()
export class InvoicesService {
  constructor(
    @InjectDomain(invoicesDomain) private readonly invoices: DomainOf<typeof invoicesDomain>,
    @Inject(WhmcsSimulator) private readonly whmcs: WhmcsSimulator,
  ) {}

  /** `invoices:invoices:<clientId>`, tagged `client:<clientId>`. */
  list(clientId: number) {
    this.whmcs.usage.requests++;
    return this.invoices.buckets.invoices.getOrSet(
      clientId,
      ({ signal }) => this.whmcs.invoices(clientId, { signal }),
      { tags: [`client:${clientId}`] },
    );
  }
}
