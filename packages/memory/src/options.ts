import { CacheError, type Duration, parseDuration } from '@org/cache-core';
import { parseTimeout } from '@org/cache-core/adapter';

export interface MemoryStoreOptions {
  /**
   * Most entries held at once; beyond it the least recently used entry is evicted. Default 10,000.
   * `Infinity` (or `0`) removes the LRU bound: an explicit opt-in, because an unbounded cache fed
   * by user-controlled keys is a memory leak waiting for traffic. Even then one store holds at
   * most 16,777,216 entries (one Map); a write past that fails with E_STORE_ERROR.
   */
  maxEntries?: number;
  /** Lifetime of a write that gives no TTL. Default: no expiry. */
  ttl?: Duration;
  /**
   * How often expired entries are swept out. Default `'1m'`; `0` disables the sweep, and expired
   * entries then leave when they are read or evicted (they are never returned either way).
   */
  checkInterval?: Duration;
}

export interface ResolvedMemoryStoreOptions {
  /** `undefined` when unbounded. */
  readonly maxEntries: number | undefined;
  /** `undefined` when writes without a TTL never expire. */
  readonly defaultTtlMs: number | undefined;
  /** `0` when there is no sweep. */
  readonly checkIntervalMs: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_CHECK_INTERVAL_MS = 60_000;
// The most one Map holds; cacheable also refuses a larger LRU (with an 'error' event, and no bound).
const MAX_BOUNDED_ENTRIES = 16_777_216;
// setInterval treats anything longer as 1 ms, which would turn the sweep into a busy loop.
const MAX_TIMER_MS = 2_147_483_647;
const knownOptions = new Set(['maxEntries', 'ttl', 'checkInterval']);

/** Validates options up front, so misuse fails at construction rather than on the first write. */
export function resolveOptions(options: MemoryStoreOptions | undefined): ResolvedMemoryStoreOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid('memoryStore() options must be an object');
  }
  for (const name of Object.keys(options)) {
    // Catches typos and cacheable's own option names (useClone, lruSize) that mean something else here.
    if (!knownOptions.has(name)) {
      throw invalid(
        `unknown memoryStore() option ${JSON.stringify(name)}; known: ${[...knownOptions].join(', ')}`,
      );
    }
  }
  const defaultTtlMs = options.ttl === undefined ? 0 : parseDuration(options.ttl, 'memoryStore() ttl');
  const checkIntervalMs =
    options.checkInterval === undefined
      ? DEFAULT_CHECK_INTERVAL_MS
      : parseTimeout(options.checkInterval, 'memoryStore() checkInterval');
  if (checkIntervalMs > MAX_TIMER_MS) {
    throw invalid(`memoryStore() checkInterval must be at most ${MAX_TIMER_MS} ms, got ${checkIntervalMs}`);
  }
  return {
    maxEntries: resolveMaxEntries(options.maxEntries),
    defaultTtlMs: defaultTtlMs === 0 ? undefined : defaultTtlMs,
    checkIntervalMs,
  };
}

function resolveMaxEntries(maxEntries: unknown): number | undefined {
  if (maxEntries === undefined) return DEFAULT_MAX_ENTRIES;
  if (maxEntries === Number.POSITIVE_INFINITY || maxEntries === 0) return undefined;
  if (
    typeof maxEntries !== 'number' ||
    !Number.isInteger(maxEntries) ||
    maxEntries < 1 ||
    maxEntries > MAX_BOUNDED_ENTRIES
  ) {
    throw invalid(
      `memoryStore() maxEntries must be an integer from 1 to ${MAX_BOUNDED_ENTRIES}, or Infinity for no bound; got ${String(maxEntries)}`,
    );
  }
  return maxEntries;
}

function invalid(message: string): CacheError {
  return new CacheError('E_INVALID_OPTION', message, { store: 'memory' });
}
