/**
 * `@org/cache-testing`: what an application's tests and a store author's contract run use. The
 * child-process plumbing of multi-process tests is `@org/cache-testing/processes`.
 */
export {
  ChaosController,
  ChaosError,
  type ChaosOperation,
  type ChaosSettings,
  seededRandom,
} from './chaos.js';
export { type ChaosStore, type ChaosStoreOptions, chaosStore } from './chaos-store.js';
export { type ManualClock, manualClock } from './clock.js';
export {
  adapterContractSuite,
  type CacheSubject,
  cacheContractSuite,
  type StoreContractCapabilities,
  type StoreSubject,
  storeContractSuite,
  type TestRunner,
} from './contract/index.js';
export { type MemoryBusEndpoint, type MemoryBusHub, memoryBusHub } from './memory-bus.js';
export { createTestCache, type TestCache, type TestCacheOptions } from './test-cache.js';
