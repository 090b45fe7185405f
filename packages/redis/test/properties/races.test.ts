import { setTimeout as sleep } from 'node:timers/promises';
import { type Cache, createCache } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { invalidationRace, runs, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';

// DESIGN.md "No stale writes" on Redis (leases revoked by invalidations, the holder's write checked
// by a Lua script, tag tokens) under random interleavings (the property is described in
// @org/cache-test-support's invalidation-race.ts). Redis's replies arrive when they do (the
// scheduler cannot order them): the interleavings are those of starts and fetch resolutions around
// real round trips. One cache, and one key and tag per run.

let cache: Cache;
beforeAll(() => {
  cache = createCache({
    store: redisStore({ url: sharedRedisUrl() }),
    prefix: uniquePrefix('race-property'),
    // The property is about ordering, not deadlines: with the default 250 ms, a machine at load
    // ~10 timed out enough calls in a row to open the breaker, and an invalidation that fails
    // fast rejects (as it must), which failed the run (suite run 2 of 3, this session).
    operationTimeout: '5s',
  });
});
afterAll(async () => {
  await cache?.close();
});

describe('invalidation beats fetch on Redis (property)', () => {
  it('under any interleaving of fetches, reads and invalidations', async () => {
    await fc.assert(
      invalidationRace({
        subject: (run) => {
          const key = `orders:detail:${run}`;
          return { cache, key, tag: `account:${run}`, pattern: `${key}*`, done: () => cache.delete(key) };
        },
        // Redis replies are I/O the scheduler cannot see: a millisecond for them to arrive.
        betweenRounds: () => sleep(1),
        maxRounds: 5_000,
      }),
      runs(100),
    );
    // A bound for a busy 2-core machine, not a performance target.
  }, 60_000);
});
