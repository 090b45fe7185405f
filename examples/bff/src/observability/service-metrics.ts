import type { Invalidator } from '@org/cache-cdc';
import type { Cache, HealthStatus } from '@org/cache-core';
import { cacheCollector } from '@org/cache-prometheus';
import { Counter, Gauge, Registry } from 'prom-client';
import type { UpstreamUsage } from '../upstream/usage.js';
import type { BucketReport } from './bucket-stats.js';
import type { HttpRequestCounter } from './http-requests.js';

export interface MetricInputs {
  cache: Cache;
  /** The service's buckets, for their TTLs. */
  buckets: () => readonly BucketReport[];
  invalidator: Invalidator;
  upstreams: readonly UpstreamUsage[];
  http: HttpRequestCounter;
}

export interface ServiceMetrics {
  /** What GET /metrics serves: `await registry.metrics()` as `registry.contentType`. */
  readonly registry: Registry;
  /** Detaches the cache collector (its event subscriptions). */
  dispose(): void;
}

type Labels = Record<string, string>;
type Reading = { labels?: Labels; value: number };

const CDC_OUTCOMES = ['processed', 'ignored', 'skipped', 'duplicates', 'failed', 'invalid'] as const;
const STATUSES: readonly HealthStatus[] = ['up', 'degraded', 'down'];

/**
 * Everything GET /metrics exposes, in a prom-client registry: the cache's metrics from
 * `@org/cache-prometheus` (`cache_*`, what its Grafana dashboard queries), and the service's own (upstreams, change
 * events, health, HTTP), read when Prometheus scrapes. Labels are bounded: cache, domain,
 * bucket, upstream, outcome, component, route patterns.
 */
export function createServiceMetrics(inputs: MetricInputs): ServiceMetrics {
  const registry = new Registry();
  // The default prefix (cache_), so the package's Grafana dashboard works against this service as is.
  const dispose = cacheCollector(inputs.cache, { registry });
  const counter = (name: string, help: string, labelNames: string[], read: () => Reading[]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.inc(labels ?? {}, value);
      },
    });
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    read: () => Reading[] | Promise<Reading[]>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const { labels, value } of await read()) this.set(labels ?? {}, value);
      },
    });

  gauge('bff_cache_ttl_seconds', 'Fresh window of each bucket with a TTL.', ['domain', 'bucket'], () =>
    inputs
      .buckets()
      .flatMap((report) =>
        report.ttlSeconds === null
          ? []
          : [{ labels: { domain: report.domain, bucket: report.bucket }, value: report.ttlSeconds }],
      ),
  );
  for (const [field, help] of [
    ['requests', 'API requests that needed the upstream.'],
    ['calls', 'Calls that reached the upstream.'],
    ['failures', 'Upstream calls that failed.'],
  ] as const) {
    counter(`bff_upstream_${field}_total`, help, ['upstream'], () =>
      inputs.upstreams.map((usage) => ({ labels: { upstream: usage.name }, value: usage[field] })),
    );
  }

  const cdc = () => inputs.invalidator.health().counters;
  counter('bff_cdc_events_total', 'Change events handled by the invalidator, by outcome.', ['outcome'], () =>
    CDC_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: cdc()[outcome] })),
  );
  for (const [name, help, field] of [
    ['bff_cdc_gaps_total', 'Header-only events (Salesforce GAP_*).', 'gaps'],
    ['bff_cdc_overflows_total', 'Events that named every record of an entity.', 'overflows'],
    ['bff_cdc_fail_safes_total', 'Whole-cache flushes by a source that lost track.', 'failSafes'],
    ['bff_cdc_keys_invalidated_total', 'Keys dropped by change events.', 'keysInvalidated'],
    ['bff_cdc_tags_invalidated_total', 'Tags invalidated by change events.', 'tagsInvalidated'],
    ['bff_cdc_patterns_invalidated_total', 'Key patterns deleted by change events.', 'patternsInvalidated'],
  ] as const) {
    counter(name, help, [], () => [{ value: cdc()[field] }]);
  }
  gauge('bff_cdc_lag_milliseconds', 'Commit-to-apply delay of the last change event.', [], () => {
    const lagMs = inputs.invalidator.health().lagMs;
    return lagMs === undefined ? [] : [{ value: lagMs }];
  });

  gauge(
    'bff_health_status',
    'Health by component: 1 for its current status, 0 for the others.',
    ['component', 'status'],
    async () => {
      const health = await inputs.cache.health();
      return [
        ...statusReadings('service', health.status),
        ...statusReadings('store', health.store.status),
        ...statusReadings('subscriber', inputs.invalidator.health().status),
      ];
    },
  );
  gauge('bff_store_latency_milliseconds', 'Latency of the last store health probe.', [], async () => [
    { value: (await inputs.cache.health()).store.latencyMs },
  ]);
  counter(
    'bff_http_requests_total',
    'HTTP requests served, by method, route pattern and status.',
    ['method', 'route', 'status'],
    () => inputs.http.entries().map(({ count, ...labels }) => ({ labels, value: count })),
  );
  return { registry, dispose };
}

function statusReadings(component: string, current: HealthStatus): Reading[] {
  return STATUSES.map((status) => ({ labels: { component, status }, value: status === current ? 1 : 0 }));
}
