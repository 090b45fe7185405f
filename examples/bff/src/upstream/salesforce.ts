import type { Availability, Bundle, OrderDetail, OrderSummary, Product } from '../schemas.js';
import { NotFoundError } from './errors.js';
import { simulateLatency } from './latency.js';
import {
  availabilityOf,
  bundleOf,
  orderDetailOf,
  orderIdsOf,
  orderSummariesOf,
  productOf,
} from './salesforce-data.js';
import { UpstreamUsage } from './usage.js';

export interface CallOptions {
  /** Aborted when the cache gives up on the fetch (its fetch timeout) or the cache closes. */
  signal?: AbortSignal;
}

/**
 * Stands in for the Salesforce REST API: slow (150 ms by default), and every call is counted, so
 * the dashboard can show what the cache saved.
 */
export class SalesforceSimulator {
  readonly usage = new UpstreamUsage('salesforce');
  readonly #latencyMs: number;
  readonly #revisions = new Map<string, number>();
  readonly #revisionOf = (entity: string, id: string) => this.#revisions.get(`${entity}:${id}`) ?? 0;

  constructor(options: { latencyMs: number }) {
    this.#latencyMs = options.latencyMs;
  }

  /** A record changed in the org (the CDC simulator calls this before it emits the event). */
  recordChange(entity: 'Order' | 'Product2', id: string): void {
    const key = `${entity}:${id}`;
    this.#revisions.set(key, (this.#revisions.get(key) ?? 0) + 1);
  }

  orderSummaries(accountId: string, options: CallOptions = {}): Promise<OrderSummary[]> {
    return this.#call(options, () => orderSummariesOf(accountId, this.#revisionOf));
  }

  /** Rejects with NotFoundError when the order is not one of the account's. */
  orderDetail(accountId: string, orderId: string, options: CallOptions = {}): Promise<OrderDetail> {
    return this.#call(options, () => {
      if (!orderIdsOf(accountId).includes(orderId))
        throw new NotFoundError(`order ${orderId} not found for account ${accountId}`);
      return orderDetailOf(accountId, orderId, this.#revisionOf);
    });
  }

  product(productId: string, options: CallOptions = {}): Promise<Product> {
    return this.#call(options, () => productOf(productId, this.#revisionOf));
  }

  bundle(bundleId: string, options: CallOptions = {}): Promise<Bundle> {
    return this.#call(options, () => bundleOf(bundleId, this.#revisionOf));
  }

  availability(productId: string, options: CallOptions = {}): Promise<Availability> {
    return this.#call(options, () => availabilityOf(productId, this.#revisionOf, Date.now()));
  }

  #call<T>(options: CallOptions, answer: () => T): Promise<T> {
    return this.usage.call(async () => {
      await simulateLatency(this.#latencyMs, options.signal);
      return answer();
    });
  }
}
