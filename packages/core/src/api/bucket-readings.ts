import type { BucketStats } from '../observe/metrics.js';
import type { CacheStats } from './cache.js';

export interface BucketReading {
  domain: string | undefined;
  bucket: string;
  stats: BucketStats;
}

/**
 * The buckets of a stats snapshot with their domain and bucket names, for exporters that label
 * metrics by domain and bucket. Ids are `default` for
 * plain calls and `domain:bucket` otherwise; core refuses ':' in domain and bucket names, so the
 * split is exact (a domain's own counters, for domain-wide tag invalidations, use bucket `*`).
 */
export function bucketReadings(stats: CacheStats): BucketReading[] {
  return Object.entries(stats.buckets).map(([id, bucketStats]) => {
    const colon = id.indexOf(':');
    return colon === -1
      ? { domain: undefined, bucket: id, stats: bucketStats }
      : { domain: id.slice(0, colon), bucket: id.slice(colon + 1), stats: bucketStats };
  });
}
