import diagnosticsChannel from 'node:diagnostics_channel';
import { type BatchObservableResult, diag, type Meter, type Observable, ValueType } from '@opentelemetry/api';
import { type BucketCounters, type CacheEvent, cacheChannels } from '@org/cache-core';
import { bucketReadings, LATENCY_BOUNDS_MS } from '@org/cache-core/adapter';
import { ATTRIBUTE, bucketAttributes } from './attributes.js';
import type { InstrumentedCache } from './instrumented-cache.js';

/** Counters core already keeps per bucket: read at collection time, nothing added to the hot path. */
const BUCKET_COUNTERS: ReadonlyArray<[keyof BucketCounters, string, string]> = [
  ['fetches', 'cache.fetches', 'Fetcher runs (upstream loads) started by the cache.'],
  ['fetchErrors', 'cache.fetch.errors', 'Fetcher runs that failed or timed out, and fetched values refused.'],
  ['coalesced', 'cache.coalesced', 'Callers that joined a fetch already in flight instead of starting one.'],
  ['storeErrors', 'cache.store.errors', 'Store operations that failed or timed out.'],
  ['corruptEntries', 'cache.corrupt_entries', 'Entries that could not be read back (counted as misses).'],
  ['droppedWrites', 'cache.dropped_writes', 'Writes abandoned because the store failed.'],
  [
    'softTimeouts',
    'cache.soft_timeouts',
    'Fetches that ran past their soft timeout: callers got the stale value, the fetch went on.',
  ],
  ['refreshes', 'cache.refreshes', 'Background refreshes (eagerRefresh) run, failed ones included.'],
  ['refreshErrors', 'cache.refresh.errors', 'Background refreshes that failed (the entry was kept).'],
];

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

export interface MetricsOptions {
  /** Count the cache's entries at each collection (a scan of the prefix). */
  entries: boolean;
}

/**
 * Registers the cache's metrics on `meter`; returns the function that stops them. Counters and
 * gauges are observed from `cache.stats()` when the SDK collects; invalidations (by kind) and
 * fetch durations come from core's diagnostics_channel events, which only fire on those paths.
 */
export function registerMetrics(meter: Meter, cache: InstrumentedCache, options: MetricsOptions): () => void {
  const name = cache.name;
  const lookups = meter.createObservableCounter('cache.lookups', {
    description:
      'Reads of the cache by result: hit, miss (fetched, coalesced or failed), stale (served past freshness).',
    valueType: ValueType.INT,
  });
  const counters = BUCKET_COUNTERS.map(
    ([field, metric, description]) =>
      [field, meter.createObservableCounter(metric, { description, valueType: ValueType.INT })] as const,
  );
  const inFlight = meter.createObservableUpDownCounter('cache.fetches.in_flight', {
    description: 'Fetches running right now in this process.',
    valueType: ValueType.INT,
  });
  const breaker = meter.createObservableGauge('cache.breaker.state', {
    description: 'The store circuit breaker: 1 for its current state, 0 for the others.',
    valueType: ValueType.INT,
  });
  const entries = meter.createObservableGauge('cache.entries', {
    description: 'Entries of the cache in its store (internal keys excluded).',
    valueType: ValueType.INT,
  });
  const observables: Observable[] = [lookups, inFlight, breaker, ...counters.map(([, counter]) => counter)];
  if (options.entries) observables.push(entries);

  const observe = async (result: BatchObservableResult) => {
    const stats = cache.stats();
    for (const { domain, bucket, stats: counts } of bucketReadings(stats)) {
      const attributes = bucketAttributes(name, domain, bucket);
      result.observe(lookups, counts.hits, { ...attributes, [ATTRIBUTE.result]: 'hit' });
      // Core counts a stale answer as a miss too; each lookup gets exactly one result here.
      result.observe(lookups, counts.misses - counts.staleHits, {
        ...attributes,
        [ATTRIBUTE.result]: 'miss',
      });
      result.observe(lookups, counts.staleHits, { ...attributes, [ATTRIBUTE.result]: 'stale' });
      for (const [field, counter] of counters) result.observe(counter, counts[field], attributes);
    }
    const cacheAttributes = { [ATTRIBUTE.cache]: name };
    result.observe(inFlight, stats.inFlight, cacheAttributes);
    for (const state of BREAKER_STATES)
      result.observe(breaker, stats.store.breaker === state ? 1 : 0, {
        ...cacheAttributes,
        [ATTRIBUTE.state]: state,
      });
    if (options.entries) {
      try {
        result.observe(entries, await cache.countByPattern('*'), cacheAttributes);
      } catch (error) {
        diag.warn(`@org/cache-otel: entries of cache ${name} not counted: ${describe(error)}`);
      }
    }
  };
  meter.addBatchObservableCallback(observe, observables);

  const invalidations = meter.createCounter('cache.invalidations', {
    description: 'Invalidation operations by kind (key, keys, tags, pattern, bucket): not keys.',
    valueType: ValueType.INT,
  });
  const fetchDuration = meter.createHistogram('cache.fetch.duration', {
    description: 'How long fetchers ran, failed ones included.',
    unit: 's',
    advice: { explicitBucketBoundaries: LATENCY_BOUNDS_MS.filter(Number.isFinite).map((ms) => ms / 1000) },
  });
  const onInvalidate = (message: unknown) => {
    const event = message as CacheEvent;
    if (event.cache !== name) return;
    invalidations.add(1, {
      ...bucketAttributes(name, event.domain, event.bucket),
      [ATTRIBUTE.kind]: event.kind ?? 'key',
    });
  };
  const onFetch = (message: unknown) => {
    const event = message as CacheEvent;
    if (event.cache !== name || event.durationMs === undefined) return;
    fetchDuration.record(event.durationMs / 1000, bucketAttributes(name, event.domain, event.bucket));
  };
  diagnosticsChannel.subscribe(cacheChannels.invalidate, onInvalidate);
  diagnosticsChannel.subscribe(cacheChannels.fetch, onFetch);

  return () => {
    meter.removeBatchObservableCallback(observe, observables);
    diagnosticsChannel.unsubscribe(cacheChannels.invalidate, onInvalidate);
    diagnosticsChannel.unsubscribe(cacheChannels.fetch, onFetch);
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
