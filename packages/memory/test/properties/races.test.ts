import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { invalidationRace, runs } from '@org/cache-test-support';
import fc from 'fast-check';
import { describe, it } from 'vitest';

// DESIGN.md "No stale writes" under random interleavings (the property is described in
// @org/cache-test-support's invalidation-race.ts), on a fresh in-process cache per run.

const stores = {
  memoryStore: () => memoryStore(),
  'a raw Map': () => new Map<string, unknown>(),
};

describe.each(Object.entries(stores))('invalidation beats fetch on %s (property)', (_, makeStore) => {
  it('under any interleaving of fetches, reads and invalidations', async () => {
    await fc.assert(
      invalidationRace({
        subject: () => {
          const cache = createCache({ store: makeStore(), prefix: 'race' });
          const key = 'orders:detail:801';
          return { cache, key, tag: 'account:001', pattern: 'orders:detail:*', done: () => cache.close() };
        },
        // Pattern walks give the event loop turns (setImmediate), which the scheduler cannot see.
        betweenRounds: () => new Promise((resolve) => setImmediate(resolve)),
        maxRounds: 1_000,
      }),
      runs(300),
    );
    // A bound for a busy 2-core machine, not a performance target.
  }, 60_000);
});
