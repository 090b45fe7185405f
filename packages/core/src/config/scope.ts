import type { ZodType } from 'zod';
import type { BucketMetrics } from '../observe/metrics.js';
import type { FreshnessSettings } from './freshness.js';
import type { Strategy } from './strategies.js';
import type { WriteRequest } from './write-request.js';

/**
 * What a read or write needs to know about where it happens: the bucket's metrics, strategy,
 * schema and freshness settings (grace, timeouts, eager refresh). Plain cache calls use the
 * cache's `default` scope. Resolved once per bucket, never per call.
 */
export interface Scope extends FreshnessSettings {
  readonly metrics: BucketMetrics;
  readonly strategy: Strategy;
  readonly schema: ZodType | undefined;
  /** The write request of a call without options, built once (the hot path allocates nothing). */
  readonly defaults: WriteRequest;
}

export function createScope(
  metrics: BucketMetrics,
  strategy: Strategy,
  schema: ZodType | undefined,
  freshness: FreshnessSettings,
): Scope {
  const { graceMs, fetchTimeoutMs, softTimeoutMs, eagerRefresh } = freshness;
  const defaults: WriteRequest = Object.freeze({
    ttlMs: strategy.ttlMs,
    graceMs,
    tags: undefined,
    fetchTimeoutMs,
    softTimeoutMs,
    eagerRefresh,
    jitter: strategy.jitter ?? 0,
  });
  return { metrics, strategy, schema, graceMs, fetchTimeoutMs, softTimeoutMs, eagerRefresh, defaults };
}
