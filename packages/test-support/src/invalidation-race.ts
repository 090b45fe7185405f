import type { Cache } from '@org/cache-core';
import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * DESIGN.md "No stale writes" as a property, for any store: fast-check's scheduler decides when
 * each call starts and when each fetch resolves. The source's version grows with every
 * invalidation (as when a change event arrives); a fetch returns the version it saw when it
 * started. Then, whatever the order:
 * - a call that starts after an invalidation was acknowledged never sees an older version;
 * - once everything has settled, the store does not hold an older version than the newest
 *   acknowledged invalidation (the in-flight result of an overtaken fetch was not kept).
 */

/** One run's cache and names; `done` cleans up after the run. */
export interface RaceSubject {
  readonly cache: Cache;
  readonly key: string;
  readonly tag: string;
  /** A glob that selects `key`, for the `deleteByPattern` invalidation. */
  readonly pattern: string;
  done(): Promise<unknown>;
}

export interface InvalidationRaceOptions {
  /** A cache (fresh, or shared with a key of its own) for run number `run`. */
  subject(run: number): RaceSubject | Promise<RaceSubject>;
  /**
   * What the scheduler cannot see and must wait for between idle rounds: one macrotask turn for
   * in-process stores (pattern walks yield with setImmediate), a millisecond of I/O for Redis.
   */
  betweenRounds(): Promise<void>;
  /** Idle rounds after which a call still pending is a hang. */
  maxRounds: number;
}

type Command = { kind: 'getOrSet' } | { kind: 'get' } | { kind: 'invalidate'; how: Invalidation };
type Invalidation = 'delete' | 'deleteMany' | 'invalidateTags' | 'deleteByPattern';

const invalidate: Record<Invalidation, (subject: RaceSubject) => Promise<unknown>> = {
  delete: ({ cache, key }) => cache.delete(key),
  deleteMany: ({ cache, key }) => cache.deleteMany([key]),
  invalidateTags: ({ cache, tag }) => cache.invalidateTags([tag]),
  deleteByPattern: ({ cache, pattern }) => cache.deleteByPattern(pattern),
};

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'getOrSet' as const }),
  fc.constant({ kind: 'get' as const }),
  fc
    .constantFrom(...(Object.keys(invalidate) as Invalidation[]))
    .map((how) => ({ kind: 'invalidate' as const, how })),
);

interface Observed {
  reads: Array<{ startedAt: number; version: number | undefined; kind: string }>;
  acknowledged: Array<{ settledAt: number; version: number; how: string }>;
}

/** The property, for `fc.assert(invalidationRace(options), runs(n))`. */
export function invalidationRace(options: InvalidationRaceOptions) {
  let runNumber = 0;
  return fc.asyncProperty(
    fc.scheduler(),
    fc.array(command, { minLength: 2, maxLength: 8 }),
    fc.boolean(),
    async (s, commands, warm) => {
      const subject = await options.subject(++runNumber);
      const { cache, key, tag } = subject;
      try {
        let source = 0;
        let clock = 0;
        const observed: Observed = { reads: [], acknowledged: [] };
        if (warm) await cache.set(key, { version: source }, { tags: [tag] });
        const fetcher = () => {
          const version = source;
          return s.schedule(Promise.resolve({ version }), `fetch resolves v${version}`);
        };
        const run = async (next: Command) => {
          if (next.kind === 'invalidate') {
            const version = ++source;
            await invalidate[next.how](subject);
            observed.acknowledged.push({ settledAt: ++clock, version, how: next.how });
            return;
          }
          const startedAt = ++clock;
          const value =
            next.kind === 'get'
              ? await cache.get<{ version: number }>(key)
              : await cache.getOrSet(key, fetcher, { tags: [tag] });
          observed.reads.push({ startedAt, version: value?.version, kind: next.kind });
        };
        const calls = commands.map((next, index) =>
          s.schedule(Promise.resolve(), `start ${index}: ${JSON.stringify(next)}`).then(() => run(next)),
        );
        await settleAll(s, calls, options);

        for (const read of observed.reads) {
          for (const ack of observed.acknowledged) {
            if (ack.settledAt < read.startedAt && read.version !== undefined)
              expect(read.version, `${read.kind} after ${ack.how} v${ack.version}`).toBeGreaterThanOrEqual(
                ack.version,
              );
          }
        }
        const newest = Math.max(0, ...observed.acknowledged.map((ack) => ack.version));
        const kept = await cache.get<{ version: number }>(key);
        if (kept !== undefined && observed.acknowledged.length > 0)
          expect(kept.version, 'the value the store kept').toBeGreaterThanOrEqual(newest);
      } finally {
        await subject.done();
      }
    },
  );
}

/** Lets the scheduler run until every call has settled. */
async function settleAll(
  s: fc.Scheduler,
  calls: Promise<unknown>[],
  options: InvalidationRaceOptions,
): Promise<void> {
  let pending = calls.length;
  for (const call of calls)
    void call.then(
      () => pending--,
      () => pending--,
    );
  for (let round = 0; pending > 0; round++) {
    if (round > options.maxRounds)
      throw new Error(`${pending} calls still pending after ${options.maxRounds} rounds:\n${s.report()}`);
    await s.waitIdle();
    await options.betweenRounds();
  }
  await Promise.all(calls);
}

/** fast-check parameters: `numRuns`, unless `FC_NUM_RUNS` asks for more (or fewer). */
export function runs(numRuns: number): fc.Parameters<unknown> {
  const override = Number(process.env.FC_NUM_RUNS);
  return { numRuns: Number.isInteger(override) && override > 0 ? override : numRuns };
}
