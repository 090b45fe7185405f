import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Invalidator } from '@org/cache-cdc';
import type { BucketConfigs, Cache, Domain } from '@org/cache-core';
import { getDomainToken, InjectCache } from '@org/cache-nestjs';
import { InjectInvalidator } from '@org/cache-nestjs/cdc';
import { catalogDomain } from '../catalog/catalog.domain.js';
import { RecentInvalidations } from '../cdc/recent-invalidations.js';
import { invoicesDomain } from '../invoices/invoices.domain.js';
import { ordersDomain } from '../orders/orders.domain.js';
import { pricingDomain } from '../pricing/pricing.domain.js';
import { CHOSEN_STORE } from '../store/cache-setup.module.js';
import type { ChosenStore } from '../store/choose-store.js';
import { SalesforceSimulator } from '../upstream/salesforce.js';
import { WhmcsSimulator } from '../upstream/whmcs.js';
import { BucketEntries } from './bucket-entries.js';
import { type BucketReport, bucketReports } from './bucket-stats.js';
import { type HistorySample, SAMPLE_INTERVAL_MS, SampleRing, sampleOf } from './dashboard-history.js';
import { type DashboardState, dashboardState } from './dashboard-state.js';
import { HttpRequestCounter } from './http-requests.js';
import { createServiceMetrics, type ServiceMetrics } from './service-metrics.js';

/** The service's domains, in the order the payloads list their buckets. */
export const SERVICE_DOMAINS = Symbol('ServiceDomains');
export const DOMAIN_DEFINITIONS = [ordersDomain, catalogDomain, invoicesDomain, pricingDomain];

export const serviceDomainsProvider = {
  provide: SERVICE_DOMAINS,
  useFactory: (...domains: Array<Domain<BucketConfigs>>) => domains,
  inject: DOMAIN_DEFINITIONS.map((definition) => getDomainToken(definition)),
};

/** Every bucket of the service with its metrics and TTL. */
@Injectable()
export class BucketReader {
  constructor(@Inject(SERVICE_DOMAINS) private readonly domains: ReadonlyArray<Domain<BucketConfigs>>) {}

  reports(): BucketReport[] {
    return bucketReports(this.domains);
  }
}

/**
 * The dashboard's data: its state (GET /api/dashboard), the entries per bucket counted in the
 * background, and the last minutes of samples (GET /api/dashboard/history), taken every second
 * whether or not a page is open.
 */
@Injectable()
export class DashboardService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly #history = new SampleRing();
  readonly #entries: BucketEntries;
  #sampler: NodeJS.Timeout | undefined;
  #sampling = false;

  constructor(
    @InjectCache() private readonly cache: Cache,
    @Inject(BucketReader) private readonly buckets: BucketReader,
    @InjectInvalidator() private readonly invalidator: Invalidator,
    @Inject(RecentInvalidations) private readonly recent: RecentInvalidations,
    @Inject(CHOSEN_STORE) private readonly store: ChosenStore,
    @Inject(SalesforceSimulator) private readonly salesforce: SalesforceSimulator,
    @Inject(WhmcsSimulator) private readonly whmcs: WhmcsSimulator,
  ) {
    this.#entries = new BucketEntries(cache, () => buckets.reports());
  }

  onApplicationBootstrap(): void {
    this.#entries.start();
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_INTERVAL_MS);
    this.#sampler.unref();
    this.#sample();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.#sampler);
    await this.#entries.stop();
  }

  async state(): Promise<DashboardState> {
    return dashboardState({
      store: { name: this.store.name, kind: this.store.kind },
      health: await this.cache.health(),
      subscriber: this.invalidator.health(),
      buckets: this.buckets.reports(),
      salesforce: this.salesforce.usage,
      whmcs: this.whmcs.usage,
      totalInvalidations: this.cache.stats().totals.invalidations,
      recent: this.recent.list(),
      entries: this.#entries.counts(),
    });
  }

  history(): { intervalMs: number; samples: HistorySample[] } {
    return { intervalMs: SAMPLE_INTERVAL_MS, samples: this.#history.list() };
  }

  #sample(): void {
    // A slow health probe (Redis down) must not pile up samplers.
    if (this.#sampling) return;
    this.#sampling = true;
    this.state()
      .then((state) => this.#history.push(sampleOf(state)))
      .catch(() => {}) // a sample missed (the cache closing) is a gap in the charts, nothing more
      .finally(() => {
        this.#sampling = false;
      });
  }
}

/** The prom-client registry GET /metrics serves; its cache collector detached on shutdown. */
@Injectable()
export class MetricsService implements OnApplicationShutdown {
  readonly metrics: ServiceMetrics;

  constructor(
    @InjectCache() cache: Cache,
    @Inject(BucketReader) buckets: BucketReader,
    @InjectInvalidator() invalidator: Invalidator,
    @Inject(SalesforceSimulator) salesforce: SalesforceSimulator,
    @Inject(WhmcsSimulator) whmcs: WhmcsSimulator,
    @Inject(HttpRequestCounter) http: HttpRequestCounter,
  ) {
    this.metrics = createServiceMetrics({
      cache,
      buckets: () => buckets.reports(),
      invalidator,
      upstreams: [salesforce.usage, whmcs.usage],
      http,
    });
  }

  onApplicationShutdown(): void {
    this.metrics.dispose();
  }
}
