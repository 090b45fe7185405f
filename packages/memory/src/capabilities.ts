import type { StoreCapabilities } from '@org/cache-core/adapter';
import type { CacheableMemory } from 'cacheable';
import { peek } from './entries.js';
import { entryBytes } from './memory-usage.js';
import { scanKeys } from './scan.js';

/**
 * What core may rely on beyond the keyv contract. Closures rather than methods: core binds them
 * to this object, not to the store.
 */
export function memoryCapabilities(memory: CacheableMemory): StoreCapabilities {
  return {
    name: 'memory',
    // Values are kept by reference (useClone: false), so core can store frozen envelopes as is.
    structuredValues: true,
    inProcess: true,
    // The hot path of every in-memory hit. CacheableMemory.get runs two hook dispatches (each
    // allocating an event object) and a stats update per read: ~60% of a cache hit. This reads
    // the same hash map, applies the same expiry test, and refreshes the LRU position itself.
    getSync: (key: string): unknown => {
      const item = peek(memory, key);
      if (item === undefined) return undefined;
      memory.lruMoveToFront(key);
      return item.value;
    },
    scan: (pattern, options) => scanKeys(memory, pattern, options),
    memoryUsage: async (keys) =>
      keys.map((key) => {
        const item = peek(memory, key);
        return item === undefined ? undefined : entryBytes(key, item.value);
      }),
  };
}
