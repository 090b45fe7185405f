import type { SalesforceSimulator } from '../upstream/salesforce.js';
import { CATALOG_PRODUCTS, DEMO_ACCOUNTS, orderIdsOf } from '../upstream/salesforce-data.js';
import { type SalesforceChangeEvent, salesforceChangeEvent } from './change-events.js';

const MAX_IN_FLIGHT = 100;

export interface SimulatorStatus {
  running: boolean;
  /** Events per second. */
  rate: number;
  /** ISO-8601, when it stops by itself; absent when it runs until stopped. */
  until?: string;
  emitted: number;
  failed: number;
}

export interface SimulatorStart {
  rate: number;
  durationMs?: number;
}

/**
 * A stand-in for a busy Salesforce org: at `rate` events per second, orders and products of the
 * demo data change (the simulated org's data changes too) and their change events are published
 * through the same path as production. Mostly UPDATEs, some CREATEs, and some saves that touched
 * only LastModifiedDate (which the invalidator skips).
 */
export class CdcSimulator {
  readonly #publish: (event: SalesforceChangeEvent) => Promise<unknown>;
  readonly #salesforce: SalesforceSimulator;
  #timer: NodeJS.Timeout | undefined;
  #stopAt: number | undefined;
  #status: SimulatorStatus = { running: false, rate: 0, emitted: 0, failed: 0 };
  #step = 0;
  #inFlight = 0;

  constructor(options: {
    publish: (event: SalesforceChangeEvent) => Promise<unknown>;
    salesforce: SalesforceSimulator;
  }) {
    this.#publish = options.publish;
    this.#salesforce = options.salesforce;
  }

  /** Starts (or restarts at a new rate). */
  start({ rate, durationMs }: SimulatorStart): SimulatorStatus {
    this.stop();
    this.#stopAt = durationMs === undefined ? undefined : Date.now() + durationMs;
    this.#status = {
      running: true,
      rate,
      ...(this.#stopAt === undefined ? {} : { until: new Date(this.#stopAt).toISOString() }),
      emitted: 0,
      failed: 0,
    };
    const interval = Math.max(1, Math.round(1000 / rate));
    const perTick = Math.max(1, Math.round((rate * interval) / 1000));
    this.#timer = setInterval(() => this.#tick(perTick), interval);
    this.#timer.unref();
    return this.status();
  }

  stop(): SimulatorStatus {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#status = { ...this.#status, running: false };
    delete this.#status.until;
    return this.status();
  }

  status(): SimulatorStatus {
    return { ...this.#status };
  }

  #tick(count: number): void {
    if (this.#stopAt !== undefined && Date.now() >= this.#stopAt) {
      this.stop();
      return;
    }
    // A slow or failing path (Redis down) must not pile up unbounded work: skip the tick.
    if (this.#inFlight >= MAX_IN_FLIGHT) return;
    for (let index = 0; index < count; index++) {
      this.#inFlight++;
      this.#publish(this.#nextEvent())
        .then(
          () => {
            this.#status.emitted++;
          },
          () => {
            this.#status.failed++;
          },
        )
        .finally(() => {
          this.#inFlight--;
        });
    }
  }

  #nextEvent(): SalesforceChangeEvent {
    const step = this.#step++;
    const roll = (step * 7919) % 100;
    if (roll < 35) return this.#productUpdate(step, roll < 8);
    if (roll < 45) return this.#orderCreate(step);
    return this.#orderUpdate(step, roll >= 90);
  }

  #orderUpdate(step: number, onlySystemFields: boolean): SalesforceChangeEvent {
    const accountId = DEMO_ACCOUNTS[step % DEMO_ACCOUNTS.length] as string;
    const orderIds = orderIdsOf(accountId);
    const orderId = orderIds[step % orderIds.length] as string;
    if (onlySystemFields)
      return salesforceChangeEvent({ entity: 'Order', ids: [orderId], changeType: 'UPDATE' });
    this.#salesforce.recordChange('Order', orderId);
    return salesforceChangeEvent({
      entity: 'Order',
      ids: [orderId],
      changeType: 'UPDATE',
      // Like a real UPDATE, only the changed fields: no AccountId, the `order:<id>` tag does the work.
      fields: { Status: step % 2 === 0 ? 'Activated' : 'Shipped' },
    });
  }

  #orderCreate(step: number): SalesforceChangeEvent {
    const accountId = DEMO_ACCOUNTS[step % DEMO_ACCOUNTS.length] as string;
    return salesforceChangeEvent({
      entity: 'Order',
      ids: [`801NEW${String(step).padStart(9, '0')}`],
      changeType: 'CREATE',
      fields: { AccountId: accountId, Status: 'Draft', EffectiveDate: new Date().toISOString().slice(0, 10) },
    });
  }

  #productUpdate(step: number, onlySystemFields: boolean): SalesforceChangeEvent {
    const productId = CATALOG_PRODUCTS[step % CATALOG_PRODUCTS.length] as string;
    if (onlySystemFields)
      return salesforceChangeEvent({ entity: 'Product2', ids: [productId], changeType: 'UPDATE' });
    this.#salesforce.recordChange('Product2', productId);
    return salesforceChangeEvent({
      entity: 'Product2',
      ids: [productId],
      changeType: 'UPDATE',
      fields: { UnitPrice: Math.round((10 + ((step * 37) % 900)) * 100) / 100 },
    });
  }
}
