import type { Scope } from '../config/scope.js';
import type { WriteRequest } from '../config/write-request.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { Fetcher, StaleEntry } from './types.js';

/**
 * One flight's miss, gathered once when the store has answered: who fetches it, with what, for
 * which bucket, how the value is to be written, and the stale entry to fall back on. The miss
 * path (deciding across processes, fetching, writing) passes this one object down.
 */
export interface FetchJob {
  readonly context: CacheContext;
  readonly flight: Flight;
  readonly fetcher: Fetcher<unknown>;
  readonly scope: Scope;
  readonly request: WriteRequest;
  readonly stale: StaleEntry | undefined;
}
