import type { Invoice } from '../schemas.js';
import { amountBetween, dayBefore, integerBetween, pick, seededRandom } from './deterministic.js';
import { UpstreamError } from './errors.js';
import { simulateLatency } from './latency.js';
import type { CallOptions } from './salesforce.js';
import { UpstreamUsage } from './usage.js';

export interface WhmcsOptions {
  latencyMs: number;
  /** Share of calls that fail (0..1). */
  failureRate: number;
  /** Share of calls that take five times as long (0..1). */
  slowRate: number;
  /** Defaults to Math.random. */
  random?: () => number;
}

const STATUSES = ['Paid', 'Paid', 'Paid', 'Unpaid', 'Overdue', 'Cancelled'] as const;

/**
 * Stands in for the WHMCS billing API: faster than Salesforce (80 ms), but now and then slow or
 * failing, as billing systems are. No change events: its cache lives on a plain TTL.
 */
export class WhmcsSimulator {
  readonly usage = new UpstreamUsage('whmcs');
  readonly #options: WhmcsOptions;
  readonly #random: () => number;

  constructor(options: WhmcsOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  invoices(clientId: number, options: CallOptions = {}): Promise<Invoice[]> {
    return this.usage.call(async () => {
      const slow = this.#random() < this.#options.slowRate;
      await simulateLatency(this.#options.latencyMs * (slow ? 5 : 1), options.signal);
      if (this.#random() < this.#options.failureRate)
        throw new UpstreamError('whmcs', 'WHMCS answered 503 Service Unavailable');
      return invoicesOf(clientId);
    });
  }
}

function invoicesOf(clientId: number): Invoice[] {
  const random = seededRandom(`client:${clientId}`);
  return Array.from({ length: integerBetween(random, 0, 6) }, (_, index) => {
    const daysAgo = 30 * (index + 1) + integerBetween(random, 0, 10);
    const id = clientId * 100 + index + 1;
    return {
      id,
      clientId,
      invoiceNumber: `INV-${String(id).padStart(8, '0')}`,
      date: dayBefore(daysAgo),
      dueDate: dayBefore(daysAgo - 14),
      total: amountBetween(random, 9, 2_500),
      currency: 'EUR',
      status: pick(random, STATUSES),
    };
  });
}
