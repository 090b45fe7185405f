export {
  ChaosController,
  ChaosError,
  type ChaosOperation,
  type ChaosSettings,
  seededRandom,
} from './chaos.js';
export { type ChaosStore, type ChaosStoreOptions, chaosStore } from './chaos-store.js';
export {
  describeWorkerError,
  sendToParent,
  serveChildWorker,
  type WorkerErrorDescription,
  type WorkerOperation,
} from './child-serve.js';
export {
  bounded,
  ChildWorker,
  ChildWorkerError,
  type ChildWorkerOptions,
  startChildWorkers,
  stopAllChildWorkers,
} from './child-worker.js';
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
