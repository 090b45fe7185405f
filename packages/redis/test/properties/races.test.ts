import { setTimeout as sleep } from 'node:timers/promises';
import { type Cache, createCache } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

function runs(numRuns: number): fc.Parameters<unknown> {
  const override = Number(process.env.FC_NUM_RUNS);
  return { numRuns: Number.isInteger(override) && override > 0 ? override : numRuns };
}

// DESIGN.md "No stale writes" on Redis (leases revoked by invalidations, the holder's write checked
// by a Lua script, tag tokens), under random interleavings: fast-check's scheduler decides when
// each call starts and when each fetch resolves. The source's version grows with every
// invalidation (as when a change event arrives); a fetch returns the version it saw when it
// started. Then, whatever the order:
// - a call that starts after an invalidation was acknowledged never sees an older version;
// - once everything has settled, the store does not hold an older version than the newest
//   acknowledged invalidation (the in-flight result of an overtaken fetch was not kept).
// Redis's replies arrive when they do (the scheduler cannot order them): the interleavings are
// those of starts and fetch resolutions around real round trips. One key and tag per run.

let run = 0;
let KEY = '';
let TAG = '';

const invalidations: Record<string, (cache: Cache) => Promise<unknown>> = {
  delete: (cache) => cache.delete(KEY),
  deleteMany: (cache) => cache.deleteMany([KEY]),
  invalidateTags: (cache) => cache.invalidateTags([TAG]),
  deleteByPattern: (cache) => cache.deleteByPattern(`${KEY}*`),
};

type Command = { kind: 'getOrSet' } | { kind: 'get' } | { kind: 'invalidate'; how: string };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'getOrSet' as const }),
  fc.constant({ kind: 'get' as const }),
  fc.constantFrom(...Object.keys(invalidations)).map((how) => ({ kind: 'invalidate' as const, how })),
);

interface Observed {
  reads: Array<{ startedAt: number; version: number | undefined; kind: string }>;
  acknowledged: Array<{ settledAt: number; version: number; how: string }>;
}

let cache: Cache;
beforeAll(() => {
  cache = createCache({
    store: redisStore({ url: sharedRedisUrl() }),
    prefix: uniquePrefix('race-property'),
  });
});
afterAll(async () => {
  await cache?.close();
});

describe('invalidation beats fetch on Redis (property)', () => {
  it('under any interleaving of fetches, reads and invalidations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(command, { minLength: 2, maxLength: 8 }),
        fc.boolean(),
        async (s, commands, warm) => {
          run++;
          KEY = `orders:detail:${run}`;
          TAG = `account:${run}`;
          try {
            let source = 0;
            let clock = 0;
            const observed: Observed = { reads: [], acknowledged: [] };
            if (warm) await cache.set(KEY, { version: source }, { tags: [TAG] });
            const fetcher = () => {
              const version = source;
              return s.schedule(Promise.resolve({ version }), `fetch resolves v${version}`);
            };
            const run = async (next: Command) => {
              if (next.kind === 'invalidate') {
                const version = ++source;
                await invalidations[next.how]?.(cache);
                observed.acknowledged.push({ settledAt: ++clock, version, how: next.how });
                return;
              }
              const startedAt = ++clock;
              const value =
                next.kind === 'get'
                  ? await cache.get<{ version: number }>(KEY)
                  : await cache.getOrSet(KEY, fetcher, { tags: [TAG] });
              observed.reads.push({ startedAt, version: value?.version, kind: next.kind });
            };
            const calls = commands.map((next, index) =>
              s.schedule(Promise.resolve(), `start ${index}: ${JSON.stringify(next)}`).then(() => run(next)),
            );
            await settleAll(s, calls);

            for (const read of observed.reads) {
              for (const ack of observed.acknowledged) {
                if (ack.settledAt < read.startedAt && read.version !== undefined)
                  expect(
                    read.version,
                    `${read.kind} after ${ack.how} v${ack.version}`,
                  ).toBeGreaterThanOrEqual(ack.version);
              }
            }
            const newest = Math.max(0, ...observed.acknowledged.map((ack) => ack.version));
            const kept = await cache.get<{ version: number }>(KEY);
            if (kept !== undefined && observed.acknowledged.length > 0)
              expect(kept.version, 'the value the store kept').toBeGreaterThanOrEqual(newest);
          } finally {
            await cache.delete(KEY);
          }
        },
      ),
      runs(100),
    );
    // A bound for a busy 2-core machine, not a performance target.
  }, 60_000);
});

/**
 * Lets the scheduler run until every call has settled. Redis replies are I/O the scheduler cannot
 * see: between idle rounds, a millisecond for them to arrive.
 */
async function settleAll(s: fc.Scheduler, calls: Promise<unknown>[]): Promise<void> {
  let pending = calls.length;
  for (const call of calls)
    void call.then(
      () => pending--,
      () => pending--,
    );
  for (let round = 0; pending > 0; round++) {
    if (round > 5_000) throw new Error(`${pending} calls still pending after 5000 rounds:\n${s.report()}`);
    await s.waitIdle();
    await sleep(1);
  }
  await Promise.all(calls);
}
