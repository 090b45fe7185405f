import { type CacheOptions, createCache } from '@org/cache-core';
import { afterEach } from 'vitest';

/**
 * `open(options)`: a cache on a fresh Map (or `options.store`) with prefix `bff`, closed after
 * each test of the file that calls this at its top level.
 */
export function closedAfterEachTest() {
  const caches: Array<ReturnType<typeof createCache>> = [];
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });
  return (options: Partial<CacheOptions> = {}) => {
    const cache = createCache({ store: new Map(), prefix: 'bff', ...options });
    caches.push(cache);
    return cache;
  };
}
