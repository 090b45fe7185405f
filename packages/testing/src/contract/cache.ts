import type { StoreInput } from '@org/cache-core';
import { cacheAdaptiveFetcherTests } from './cache-adaptive.js';
import { cacheBatchTests } from './cache-batch.js';
import { defineCacheTest } from './cache-fixture.js';
import { cacheFreshnessTests } from './cache-freshness.js';
import { cachePatternTests } from './cache-patterns.js';
import { cacheRefreshTests } from './cache-refresh.js';
import { cacheValueTests } from './cache-values.js';
import { type CacheSubject, defineTest, type StoreSubject, type TestRunner } from './runner.js';

/**
 * The contract through `createCache({ store, prefix, clock })`: what a user observes whatever the
 * store. Takes a keyv adapter, a `Keyv` instance or a plain `Map`. Time is a manual clock, so
 * expiry here is logical; physical expiry is the adapter level's `ttl` flag.
 */
export function cacheContractSuite<Store extends StoreInput>(
  runner: TestRunner,
  subject: StoreSubject<Store> & Pick<CacheSubject, 'cacheOptions'>,
): void {
  runner.describe(`${subject.name}: through createCache`, () => {
    const test = defineCacheTest(defineTest(runner, subject), subject.cacheOptions);
    cacheValueTests(test);
    cacheFreshnessTests(test, subject.capabilities?.ttl === true);
    cacheRefreshTests(test);
    cachePatternTests(test);
    cacheAdaptiveFetcherTests(test);
    cacheBatchTests(test);
  });
}
