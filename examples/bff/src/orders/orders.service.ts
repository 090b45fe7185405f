import { Inject, Injectable } from '@nestjs/common';
import type { DomainOf } from '@org/cache-core';
import { InjectDomain } from '@org/cache-nestjs';
import { NotFoundError } from '../upstream/errors.js';
import { SalesforceSimulator } from '../upstream/salesforce.js';
import { ordersDomain } from './orders.domain.js';

/** The seed's OrdersCacheService: order summaries per account and order details, from Salesforce. */
@Injectable()
export class OrdersService {
  constructor(
    @InjectDomain(ordersDomain) private readonly orders: DomainOf<typeof ordersDomain>,
    @Inject(SalesforceSimulator) private readonly salesforce: SalesforceSimulator,
  ) {}

  /** `orders:summaries:<accountId>`, dropped when the account or any of its orders changes. */
  summaries(accountId: string) {
    this.salesforce.usage.requests++;
    return this.orders.buckets.summaries.getOrSet(
      accountId,
      ({ signal }) => this.salesforce.orderSummaries(accountId, { signal }),
      // Tags from the value: the list depends on every order in it.
      { tags: (orders) => [`account:${accountId}`, ...orders.map((order) => `order:${order.id}`)] },
    );
  }

  /** `orders:detail:<orderId>`; rejects with NotFoundError when the order is not the account's. */
  async detail(accountId: string, orderId: string) {
    this.salesforce.usage.requests++;
    const order = await this.orders.buckets.detail.getOrSet(
      orderId,
      ({ signal }) => this.salesforce.orderDetail(accountId, orderId, { signal }),
      { tags: [`order:${orderId}`, `account:${accountId}`] },
    );
    // The entry is keyed by order id alone: another account asking for it must not see it.
    if (order.accountId !== accountId)
      throw new NotFoundError(`order ${orderId} not found for account ${accountId}`);
    return order;
  }
}
