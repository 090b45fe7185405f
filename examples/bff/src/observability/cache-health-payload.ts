import type { Cache } from '@org/cache-core';
import type { BucketReport } from './bucket-stats.js';

/**
 * GET /api/health/services/cache: exactly the payload the hand-written services returned, so
 * the dashboards and alerts built on it keep working: per bucket only hits and misses, the total
 * invalidation count, and each bucket's TTL in seconds (null = until invalidated).
 */
export interface CacheHealthPayload {
  timestamp: string;
  metrics: Record<string, { hits: number; misses: number } | number> & { invalidations: number };
  ttl: Record<string, number | null>;
}

export function cacheHealthPayload(cache: Cache, buckets: readonly BucketReport[]): CacheHealthPayload {
  const metrics: Record<string, { hits: number; misses: number }> = {};
  const ttl: Record<string, number | null> = {};
  for (const { bucket, stats, ttlSeconds } of buckets) {
    metrics[bucket] = { hits: stats.hits, misses: stats.misses };
    ttl[bucket] = ttlSeconds;
  }
  // Every invalidation operation of the cache: bucket and domain ones, and the change events'
  // (the invalidator drops keys and tags through the cache itself).
  const invalidations = cache.stats().totals.invalidations;
  return { timestamp: new Date().toISOString(), metrics: { ...metrics, invalidations }, ttl };
}
