import type { Invalidator } from '@org/cache-cdc';
import type { BucketConfigs, Cache, Domain } from '@org/cache-core';
import type { RecentInvalidations } from '../cdc/recent-invalidations.js';
import { sendJson, sendText } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { bucketReports } from '../observability/bucket-stats.js';
import { cacheHealthPayload } from '../observability/cache-health-payload.js';
import { dashboardState } from '../observability/dashboard-state.js';
import type { ServiceMetrics } from '../observability/service-metrics.js';
import type { ChosenStore } from '../store.js';
import type { UpstreamUsage } from '../upstream/usage.js';

export interface ObservabilityInputs {
  cache: Cache;
  domains: ReadonlyArray<Domain<BucketConfigs>>;
  invalidator: Invalidator;
  recent: RecentInvalidations;
  store: Pick<ChosenStore, 'name' | 'kind'>;
  salesforce: UpstreamUsage;
  whmcs: UpstreamUsage;
  /** The prom-client registry GET /metrics serves. */
  metrics: ServiceMetrics;
}

/** Health, the seed's cache payload, Prometheus metrics and the dashboard's JSON. */
export function observabilityRoutes(router: Router, inputs: ObservabilityInputs): void {
  const { cache, domains, invalidator } = inputs;

  router.get('/health', async ({ res }) => {
    const health = await cache.health();
    const subscriber = invalidator.health();
    const { name: _name, ...store } = health.store;
    sendJson(res, health.status === 'down' ? 503 : 200, {
      status: health.status,
      timestamp: health.timestamp,
      store: { name: inputs.store.name, kind: inputs.store.kind, ...store },
      subscriber,
    });
  });

  router.get('/api/health/services/cache', ({ res }) => {
    sendJson(res, 200, cacheHealthPayload(cache, bucketReports(domains)));
  });

  router.get('/metrics', async ({ res }) => {
    const { registry } = inputs.metrics;
    sendText(res, 200, registry.contentType, await registry.metrics());
  });

  router.get('/api/dashboard', async ({ res }) => {
    const health = await cache.health();
    sendJson(
      res,
      200,
      dashboardState({
        store: { name: inputs.store.name, kind: inputs.store.kind },
        health,
        subscriber: invalidator.health(),
        buckets: bucketReports(domains),
        salesforce: inputs.salesforce,
        whmcs: inputs.whmcs,
        totalInvalidations: cache.stats().totals.invalidations,
        recent: inputs.recent.list(),
      }),
    );
  });
}
