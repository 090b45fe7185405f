import { BucketMetrics, type BucketStats, countersOf } from './metrics.js';

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

  totals(): Omit<BucketStats, 'fetchLatency'> {
    return countersOf(this.buckets.values());
  }
}
