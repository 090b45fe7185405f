import { type Cache, CacheError } from '@org/cache-core';

/** What the exporter reads from a cache: its name, its counters, and its entry count. */
export type InstrumentedCache = Pick<Cache, 'name' | 'stats' | 'countByPattern'>;

export function assertCache(cache: unknown): asserts cache is InstrumentedCache {
  const candidate = cache as Partial<InstrumentedCache> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.name !== 'string' ||
    typeof candidate.stats !== 'function' ||
    typeof candidate.countByPattern !== 'function'
  ) {
    throw new CacheError('E_INVALID_OPTION', 'instrumentCache() needs a cache made by createCache()');
  }
}
