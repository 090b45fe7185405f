import { cacheContractSuite, chaosStore, storeContractSuite } from '@org/cache-testing';
import { Keyv } from 'keyv';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { mapAdapter } from './support/map-adapter.js';

const runner = { describe, it, beforeEach, afterEach };

// Every capability, and physical expiry.
storeContractSuite(runner, {
  name: 'map adapter (full)',
  createStore: () => mapAdapter('full'),
  capabilities: { ttl: true, scan: true, memoryUsage: true, syncRead: true, structuredValues: true },
});

// Plain keyv methods: core falls back to iterator for patterns and estimates memory.
storeContractSuite(runner, {
  name: 'map adapter (iterable)',
  createStore: () => mapAdapter('iterable'),
  capabilities: { ttl: true },
});

// Only what keyv requires: pattern operations must be refused, everything else must work.
storeContractSuite(runner, { name: 'map adapter (minimal)', createStore: () => mapAdapter('minimal') });

// A healthy chaos wrapper must be invisible to the contract.
storeContractSuite(runner, {
  name: 'chaos(map adapter) at rest',
  createStore: () => chaosStore(mapAdapter('full')),
  capabilities: { ttl: true, scan: true, memoryUsage: true, structuredValues: true },
});

cacheContractSuite(runner, { name: 'new Map()', createStore: () => new Map() });
cacheContractSuite(runner, { name: 'new Keyv()', createStore: () => new Keyv() });
cacheContractSuite({ describe, it }, { name: 'new Keyv() without hooks', createStore: () => new Keyv() });
