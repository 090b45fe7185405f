import diagnosticsChannel from 'node:diagnostics_channel';
import { type BucketCounters, type Cache, type CacheEvent, cacheChannels } from '@org/cache-core';
import { bucketReadings, LATENCY_BOUNDS_MS } from '@org/cache-core/adapter';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const BUCKET_LABELS = ['cache', 'domain', 'bucket'] as const;
const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** Counters core keeps per bucket, read from `cache.stats()` at scrape time. */
const BUCKET_COUNTERS: ReadonlyArray<[keyof BucketCounters, string, string]> = [
  ['fetches', 'fetches_total', 'Fetcher runs (upstream loads) started by the cache.'],
  ['fetchErrors', 'fetch_errors_total', 'Fetcher runs that failed or timed out, and fetched values refused.'],
  ['coalesced', 'coalesced_total', 'Callers that joined a fetch already in flight instead of starting one.'],
  ['storeErrors', 'store_errors_total', 'Store operations that failed or timed out.'],
  ['corruptEntries', 'corrupt_entries_total', 'Entries that could not be read back (counted as misses).'],
  ['droppedWrites', 'dropped_writes_total', 'Writes abandoned because the store failed.'],
  [
    'softTimeouts',
    'soft_timeouts_total',
    'Fetches that ran past their soft timeout: callers got the stale value, the fetch went on.',
  ],
  ['refreshes', 'refreshes_total', 'Background refreshes (eagerRefresh) run, failed ones included.'],
  ['refreshErrors', 'refresh_errors_total', 'Background refreshes that failed (the entry was kept).'],
];

/** The metric names a set with this prefix registers (the histogram's series add _bucket, _sum, _count). */
export function metricNames(prefix: string): string[] {
  return [
    'lookups_total',
    ...BUCKET_COUNTERS.map(([, name]) => name),
    'invalidations_total',
    'fetch_duration_seconds',
    'fetches_in_flight',
    'entries',
    'breaker_state',
  ].map((name) => prefix + name);
}

interface Options {
  registry: Registry;
  prefix: string;
  entries: boolean;
}

/**
 * The cache metrics of one (registry, prefix): registered once, shared by every cache attached
 * to it, so collecting for a second cache adds series instead of registering names twice.
 */
export class MetricSet {
  /** Attached caches by name (series are told apart by the `cache` label), with their attach count. */
  readonly caches = new Map<string, { cache: Cache; attached: number }>();
  readonly #unsubscribe: () => void;
  readonly #names: string[];

  constructor(private readonly options: Options) {
    const { registry, prefix } = options;
    const registers = [registry];
    const caches = () => [...this.caches.values()].map((entry) => entry.cache);
    const name = (suffix: string) => prefix + suffix;
    this.#names = metricNames(prefix);

    new Counter({
      name: name('lookups_total'),
      help: 'Reads of the cache by result: hit, miss (fetched, coalesced or failed), stale (served past freshness).',
      labelNames: [...BUCKET_LABELS, 'result'],
      registers,
      collect() {
        this.reset();
        for (const cache of caches())
          for (const { labels, stats } of bucketsOf(cache)) {
            this.inc({ ...labels, result: 'hit' }, stats.hits);
            // Core counts a stale answer as a miss too; each lookup gets exactly one result here.
            this.inc({ ...labels, result: 'miss' }, stats.misses - stats.staleHits);
            this.inc({ ...labels, result: 'stale' }, stats.staleHits);
          }
      },
    });
    for (const [field, suffix, help] of BUCKET_COUNTERS) {
      new Counter({
        name: name(suffix),
        help,
        labelNames: BUCKET_LABELS,
        registers,
        collect() {
          this.reset();
          for (const cache of caches())
            for (const { labels, stats } of bucketsOf(cache)) this.inc(labels, stats[field]);
        },
      });
    }
    new Gauge({
      name: name('fetches_in_flight'),
      help: 'Fetches running right now in this process.',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        for (const cache of caches()) this.set({ cache: cache.name }, cache.stats().inFlight);
      },
    });
    new Gauge({
      name: name('breaker_state'),
      help: 'The store circuit breaker: 1 for its current state, 0 for the others.',
      labelNames: ['cache', 'state'],
      registers,
      collect() {
        this.reset();
        for (const cache of caches()) {
          const current = cache.stats().store.breaker;
          for (const state of BREAKER_STATES)
            this.set({ cache: cache.name, state }, current === state ? 1 : 0);
        }
      },
    });
    const countEntries = options.entries;
    new Gauge({
      name: name('entries'),
      help: 'Entries of the cache in its store (internal keys excluded); absent when the store cannot count them.',
      labelNames: ['cache'],
      registers,
      async collect() {
        this.reset();
        if (!countEntries) return;
        const attached = caches();
        const counts = await Promise.all(
          attached.map((cache) => cache.countByPattern('*').catch(() => undefined)),
        );
        attached.forEach((cache, index) => {
          const count = counts[index];
          if (count !== undefined) this.set({ cache: cache.name }, count);
        });
      },
    });

    const invalidations = new Counter({
      name: name('invalidations_total'),
      help: 'Invalidation operations by kind (key, keys, tags, pattern, bucket): not keys.',
      labelNames: [...BUCKET_LABELS, 'kind'],
      registers,
    });
    const fetchDuration = new Histogram({
      name: name('fetch_duration_seconds'),
      help: 'How long fetchers ran, failed ones included.',
      labelNames: BUCKET_LABELS,
      buckets: LATENCY_BOUNDS_MS.filter(Number.isFinite).map((ms) => ms / 1000),
      registers,
    });
    const onInvalidate = (message: unknown) => {
      const event = message as CacheEvent;
      if (!this.caches.has(event.cache)) return;
      invalidations.inc({ ...labelsOf(event.cache, event.domain, event.bucket), kind: event.kind ?? 'key' });
    };
    const onFetch = (message: unknown) => {
      const event = message as CacheEvent;
      if (!this.caches.has(event.cache) || event.durationMs === undefined) return;
      fetchDuration.observe(labelsOf(event.cache, event.domain, event.bucket), event.durationMs / 1000);
    };
    diagnosticsChannel.subscribe(cacheChannels.invalidate, onInvalidate);
    diagnosticsChannel.subscribe(cacheChannels.fetch, onFetch);
    this.#unsubscribe = () => {
      diagnosticsChannel.unsubscribe(cacheChannels.invalidate, onInvalidate);
      diagnosticsChannel.unsubscribe(cacheChannels.fetch, onFetch);
    };
  }

  /** Unregisters every metric of the set and stops listening. */
  dispose(): void {
    this.#unsubscribe();
    for (const name of this.#names) this.options.registry.removeSingleMetric(name);
  }
}

function labelsOf(cache: string, domain: string | undefined, bucket: string) {
  // Prometheus treats an empty label as an absent one: plain cache calls have no domain.
  return { cache, domain: domain ?? '', bucket };
}

function bucketsOf(cache: Cache) {
  return bucketReadings(cache.stats()).map(({ domain, bucket, stats }) => ({
    labels: labelsOf(cache.name, domain, bucket),
    stats,
  }));
}
