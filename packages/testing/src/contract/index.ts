import type { CacheStore } from '@org/cache-core';
import { adapterContractSuite } from './adapter.js';
import { cacheContractSuite } from './cache.js';
import type { StoreSubject, TestRunner } from './runner.js';

/**
 * The store contract, at both levels: the raw keyv adapter, then through `createCache`. Runner-
 * agnostic, like `@keyv/test-suite`: pass your runner's functions.
 *
 * @example
 * import { afterEach, describe, it } from 'vitest';
 * storeContractSuite({ describe, it, afterEach }, {
 *   name: 'memoryStore',
 *   createStore: () => memoryStore(),
 *   capabilities: { ttl: true, scan: true, memoryUsage: true, syncRead: true, structuredValues: true },
 * });
 */
export function storeContractSuite(runner: TestRunner, subject: StoreSubject<CacheStore>): void {
  adapterContractSuite(runner, subject);
  cacheContractSuite(runner, subject);
}

export type { CacheSubject, StoreContractCapabilities, StoreSubject, TestRunner } from './runner.js';
export { adapterContractSuite, cacheContractSuite };
