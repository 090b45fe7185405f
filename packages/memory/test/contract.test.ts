import { memoryStore } from '@org/cache-memory';
import { storeContractSuite } from '@org/cache-testing';
import { afterEach, describe, it } from 'vitest';

// The project's store contract, raw and through createCache, with every capability this store has.
storeContractSuite(
  { describe, it, afterEach },
  {
    name: 'memoryStore',
    createStore: () => memoryStore(),
    capabilities: { ttl: true, scan: true, memoryUsage: true, syncRead: true, structuredValues: true },
    cleanup: (store) => store.disconnect?.(),
  },
);
