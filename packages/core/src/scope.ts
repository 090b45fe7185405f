import type { ZodType } from 'zod';
import type { BucketMetrics } from './metrics.js';
import type { Strategy } from './strategies.js';

/**
 * What a read or write needs to know about where it happens: the bucket's metrics, strategy and
 * schema. Plain cache calls use the cache's `default` scope. Resolved once per bucket, never per
 * call.
 */
export interface Scope {
  readonly metrics: BucketMetrics;
  readonly strategy: Strategy;
  readonly schema: ZodType | undefined;
  /** How long past freshness an entry is kept to be served if the fetcher fails. */
  readonly graceMs: number;
}
