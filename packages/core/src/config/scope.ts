import type { ZodType } from 'zod';
import type { BucketMetrics } from '../observe/metrics.js';
import type { Strategy } from './strategies.js';
import type { WriteRequest } from './write-request.js';

/**
 * What a read or write needs to know about where it happens: the bucket's metrics, strategy and
 * schema. Plain cache calls use the cache's `default` scope. Resolved once per bucket, never per
 * call.
 */
export interface Scope {
  readonly metrics: BucketMetrics;
  readonly strategy: Strategy;
  readonly schema: ZodType | undefined;
  /** How long past freshness an entry is kept to be served if its fetcher fails. */
  readonly graceMs: number;
  /** The write request of a call without options, built once (the hot path allocates nothing). */
  readonly defaults: WriteRequest;
}

export function createScope(
  metrics: BucketMetrics,
  strategy: Strategy,
  schema: ZodType | undefined,
  graceMs: number,
  fetchTimeoutMs: number,
): Scope {
  const defaults = Object.freeze({ ttlMs: strategy.ttlMs, graceMs, tags: undefined, fetchTimeoutMs });
  return { metrics, strategy, schema, graceMs, defaults };
}
