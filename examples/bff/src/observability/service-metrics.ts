import type { InvalidatorHealth } from '@org/cache-cdc';
import type { BucketCounters, CacheHealth, HealthStatus } from '@org/cache-core';
import type { UpstreamUsage } from '../upstream/usage.js';
import type { BucketReport } from './bucket-stats.js';
import type { HttpRequestCounter } from './http-requests.js';
import type { MetricFamily, Sample } from './prometheus.js';

export interface MetricInputs {
  buckets: readonly BucketReport[];
  totalInvalidations: number;
  inFlight: number;
  health: CacheHealth;
  subscriber: InvalidatorHealth;
  upstreams: readonly UpstreamUsage[];
  http: HttpRequestCounter;
}

const BUCKET_COUNTERS: ReadonlyArray<[keyof BucketCounters, string, string]> = [
  ['hits', 'bff_cache_hits_total', 'Reads answered from the cache.'],
  ['misses', 'bff_cache_misses_total', 'Reads the cache could not answer (fetched, coalesced or failed).'],
  [
    'staleHits',
    'bff_cache_stale_hits_total',
    'Reads answered past freshness because the fetch or store failed.',
  ],
  ['coalesced', 'bff_cache_coalesced_waits_total', 'Callers that joined a fetch already in flight.'],
  ['fetches', 'bff_cache_fetches_total', 'Fetcher runs (upstream loads) started by the cache.'],
  ['fetchErrors', 'bff_cache_fetch_errors_total', 'Fetcher runs that failed.'],
  ['invalidations', 'bff_cache_invalidations_total', 'Invalidation operations on the bucket (not keys).'],
  ['storeErrors', 'bff_cache_store_errors_total', 'Store operations that failed or timed out.'],
  [
    'corruptEntries',
    'bff_cache_corrupt_entries_total',
    'Entries that could not be read back: counted misses.',
  ],
  ['droppedWrites', 'bff_cache_dropped_writes_total', 'Writes abandoned because the store failed.'],
];

const CDC_OUTCOMES = ['processed', 'ignored', 'skipped', 'duplicates', 'failed', 'invalid'] as const;
const STATUSES: readonly HealthStatus[] = ['up', 'degraded', 'down'];

/** Everything GET /metrics exposes. Labels are bounded: domain, bucket, upstream, route patterns. */
export function metricFamilies(inputs: MetricInputs): MetricFamily[] {
  const { buckets, health, subscriber } = inputs;
  const bucketLabels = (report: BucketReport) => ({ domain: report.domain, bucket: report.bucket });
  const families: MetricFamily[] = BUCKET_COUNTERS.map(([counter, name, help]) => ({
    name,
    help,
    type: 'counter',
    samples: buckets.map((report) => ({ labels: bucketLabels(report), value: report.stats[counter] })),
  }));
  families.push(
    {
      name: 'bff_cache_fetch_latency_milliseconds',
      help: 'Fetch latency percentiles per bucket (upper bound of the histogram bucket).',
      type: 'gauge',
      samples: buckets.flatMap((report) => [
        { labels: { ...bucketLabels(report), quantile: '0.5' }, value: report.stats.fetchLatency.p50Ms },
        { labels: { ...bucketLabels(report), quantile: '0.99' }, value: report.stats.fetchLatency.p99Ms },
      ]),
    },
    {
      name: 'bff_cache_ttl_seconds',
      help: 'Fresh window of each bucket with a TTL.',
      type: 'gauge',
      samples: buckets.flatMap((report) =>
        report.ttlSeconds === null ? [] : [{ labels: bucketLabels(report), value: report.ttlSeconds }],
      ),
    },
    {
      name: 'bff_cache_invalidation_operations_total',
      help: 'Every invalidation operation of the cache, change events included.',
      type: 'counter',
      samples: [{ value: inputs.totalInvalidations }],
    },
    {
      name: 'bff_cache_in_flight_fetches',
      help: 'Fetches running right now in this process.',
      type: 'gauge',
      samples: [{ value: inputs.inFlight }],
    },
  );
  for (const [field, help] of [
    ['requests', 'API requests that needed the upstream.'],
    ['calls', 'Calls that reached the upstream.'],
    ['failures', 'Upstream calls that failed.'],
  ] as const) {
    families.push({
      name: `bff_upstream_${field}_total`,
      help,
      type: 'counter',
      samples: inputs.upstreams.map((usage) => ({ labels: { upstream: usage.name }, value: usage[field] })),
    });
  }
  const counters = subscriber.counters;
  families.push(
    {
      name: 'bff_cdc_events_total',
      help: 'Change events handled by the invalidator, by outcome.',
      type: 'counter',
      samples: CDC_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: counters[outcome] })),
    },
    counter('bff_cdc_gaps_total', 'Header-only events (Salesforce GAP_*).', counters.gaps),
    counter('bff_cdc_overflows_total', 'Events that named every record of an entity.', counters.overflows),
    counter(
      'bff_cdc_fail_safes_total',
      'Whole-cache flushes by a source that lost track.',
      counters.failSafes,
    ),
    counter('bff_cdc_keys_invalidated_total', 'Keys dropped by change events.', counters.keysInvalidated),
    counter('bff_cdc_tags_invalidated_total', 'Tags invalidated by change events.', counters.tagsInvalidated),
    counter(
      'bff_cdc_patterns_invalidated_total',
      'Key patterns deleted by change events.',
      counters.patternsInvalidated,
    ),
  );
  if (subscriber.lagMs !== undefined) {
    families.push({
      name: 'bff_cdc_lag_milliseconds',
      help: 'Commit-to-apply delay of the last change event.',
      type: 'gauge',
      samples: [{ value: subscriber.lagMs }],
    });
  }
  families.push(
    {
      name: 'bff_health_status',
      help: 'Health by component: 1 for its current status, 0 for the others.',
      type: 'gauge',
      samples: [
        ...statusSamples('service', health.status),
        ...statusSamples('store', health.store.status),
        ...statusSamples('subscriber', subscriber.status),
      ],
    },
    {
      name: 'bff_store_latency_milliseconds',
      help: 'Latency of the last store health probe.',
      type: 'gauge',
      samples: [{ value: health.store.latencyMs }],
    },
    {
      name: 'bff_http_requests_total',
      help: 'HTTP requests served, by method, route pattern and status.',
      type: 'counter',
      samples: inputs.http.entries().map(({ count, ...labels }) => ({ labels, value: count })),
    },
  );
  return families;
}

function counter(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'counter', samples: [{ value }] };
}

function statusSamples(component: string, current: HealthStatus): Sample[] {
  return STATUSES.map((status) => ({ labels: { component, status }, value: status === current ? 1 : 0 }));
}
