import type { BucketConfigs, BucketStats, Domain } from '@org/cache-core';

export interface BucketReport {
  domain: string;
  bucket: string;
  stats: BucketStats;
  /** Fresh window in seconds; null = until invalidated. */
  ttlSeconds: number | null;
}

/** Every bucket of the service's domains, with its metrics, in declaration order. */
export function bucketReports(domains: ReadonlyArray<Domain<BucketConfigs>>): BucketReport[] {
  return domains.flatMap((domain) => {
    const { metrics, ttl } = domain.stats();
    return Object.keys(domain.buckets).map((bucket) => ({
      domain: domain.name,
      bucket,
      stats: metrics[bucket] as BucketStats,
      ttlSeconds: ttl[bucket] ?? null,
    }));
  });
}
