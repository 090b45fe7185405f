import { BucketMetrics, type BucketStats } from './metrics.js';

export const DEFAULT_BUCKET = 'default';

/** All bucket metrics of one cache, by `domain:bucket` (plain calls under `default`). */
export class MetricsRegistry {
  private readonly buckets = new Map<string, BucketMetrics>();

  bucket(domain: string | undefined, bucket: string): BucketMetrics {
    const id = domain === undefined ? bucket : `${domain}:${bucket}`;
    let metrics = this.buckets.get(id);
    if (metrics === undefined) {
      metrics = new BucketMetrics(domain, bucket);
      this.buckets.set(id, metrics);
    }
    return metrics;
  }

  snapshot(): Record<string, BucketStats> {
    const result: Record<string, BucketStats> = {};
    for (const [id, metrics] of this.buckets) result[id] = metrics.snapshot();
    return result;
  }

  totals(): Omit<BucketStats, 'hitRatio' | 'fetchLatency'> & { hitRatio: number } {
    const totals = {
      hits: 0,
      misses: 0,
      staleHits: 0,
      coalesced: 0,
      fetches: 0,
      fetchErrors: 0,
      invalidations: 0,
      storeErrors: 0,
      corruptEntries: 0,
      droppedWrites: 0,
      hitRatio: 0,
    };
    for (const metrics of this.buckets.values()) {
      totals.hits += metrics.hits;
      totals.misses += metrics.misses;
      totals.staleHits += metrics.staleHits;
      totals.coalesced += metrics.coalesced;
      totals.fetches += metrics.fetches;
      totals.fetchErrors += metrics.fetchErrors;
      totals.invalidations += metrics.invalidations;
      totals.storeErrors += metrics.storeErrors;
      totals.corruptEntries += metrics.corruptEntries;
      totals.droppedWrites += metrics.droppedWrites;
    }
    const reads = totals.hits + totals.misses;
    totals.hitRatio = reads === 0 ? 0 : Math.round((totals.hits / reads) * 1000) / 1000;
    return totals;
  }
}
