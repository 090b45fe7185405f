import type { StoreCapabilities } from '@org/cache-core';
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
    // The L1 hot path: one CacheableMemory.get, which also refreshes the entry's LRU position.
    getSync: (key: string): unknown => memory.get(key),
    scan: (pattern, options) => scanKeys(memory, pattern, options),
    memoryUsage: async (keys) =>
      keys.map((key) => {
        const item = peek(memory, key);
        return item === undefined ? undefined : entryBytes(key, item.value);
      }),
  };
}
