import { measure, redisCommand, uniquePrefix, usePrivateRedis } from '@org/cache-test-support';
import { describe, expect, it } from 'vitest';
import {
  type BurstResult,
  type CacheWorker,
  sleep,
  startWorkers,
  stopAllWorkers,
  type WorkerConfig,
} from './workers/pool.js';

// DESIGN.md "No stale writes", across processes: process A fetches key K (300 ms, static tags);
// process B invalidates K 100 ms into that fetch. A's callers still get A's value, but nobody
// (A, B, or a process C started afterwards) can read it, and the next fetch is stored normally.

const FETCH_MS = 300;
const INVALIDATE_AFTER_MS = 100;
const TAG = 'account:001';

const privateRedis = usePrivateRedis({ afterEach: stopAllWorkers });

interface Scenario {
  title: string;
  /** K holds a stale entry (past its ttl, inside grace) when A starts, instead of nothing. */
  warm: boolean;
  invalidate: (b: CacheWorker, key: string) => Promise<unknown>;
  /** What every process reads once A's fetch is over. */
  afterwards: 'miss' | { by: string };
  /** Physically: no entry left in Redis at all (delete and pattern delete). */
  entryGone: boolean;
}

const newer = { by: 'B', version: 2 };

const scenarios: Scenario[] = [
  {
    title: '(a) delete(K), cold key (no entry before: the lease revocation stops the write)',
    warm: false,
    invalidate: (b, key) => b.request('delete', { key }),
    afterwards: 'miss',
    entryGone: true,
  },
  {
    title: '(a) delete(K), K had a stale entry',
    warm: true,
    invalidate: (b, key) => b.request('delete', { key }),
    afterwards: 'miss',
    entryGone: true,
  },
  {
    title: '(b) invalidateTags([tag]) of a static tag of K',
    warm: false,
    invalidate: (b) => b.request('invalidateTags', { tags: [TAG] }),
    afterwards: 'miss',
    entryGone: false,
  },
  {
    title: '(b) invalidateTags([tag]), K had a stale entry',
    warm: true,
    invalidate: (b) => b.request('invalidateTags', { tags: [TAG] }),
    afterwards: 'miss',
    entryGone: false,
  },
  {
    title: '(c) deleteByPattern matching K, cold key (no entry before)',
    warm: false,
    invalidate: (b) => b.request('deleteByPattern', { pattern: 'nsw:item:*' }),
    afterwards: 'miss',
    entryGone: true,
  },
  {
    title: '(c) deleteByPattern matching K, K had a stale entry',
    warm: true,
    invalidate: (b) => b.request('deleteByPattern', { pattern: 'nsw:item:*' }),
    afterwards: 'miss',
    entryGone: true,
  },
  {
    title: '(d) B sets K to a newer value',
    warm: false,
    invalidate: (b, key) => b.request('set', { key, value: newer, options: { tags: [TAG] } }),
    afterwards: newer,
    entryGone: false,
  },
  {
    // A's lease recorded the stale entry; the commit finds B's entry in its place and leaves it.
    title: '(d) B sets K to a newer value, K had a stale entry',
    warm: true,
    invalidate: (b, key) => b.request('set', { key, value: newer, options: { tags: [TAG] } }),
    afterwards: newer,
    entryGone: false,
  },
];

function config(prefix: string, name: string): WorkerConfig {
  // grace keeps a past-ttl entry physically present (stale) for the warm scenarios.
  return { name, prefix, redis: { url: privateRedis.server.url }, grace: '1m' };
}

function onlyValue(result: BurstResult): unknown {
  expect(result.errors, JSON.stringify(result.errors.slice(0, 3))).toEqual([]);
  expect(result.values, JSON.stringify(result.values)).toHaveLength(1);
  return result.values[0]?.value;
}

const counterOf = async (counterKey: string) =>
  Number((await redisCommand(privateRedis.server.port, ['GET', counterKey])) ?? 0);

describe('no stale writes across processes', () => {
  for (const scenario of scenarios) {
    it(scenario.title, async () => {
      const prefix = uniquePrefix('nsw');
      const key = 'nsw:item:42';
      const rawKey = `${prefix}:${key}`;
      const counterKey = `counter:${prefix}`;
      const [a, b] = await startWorkers([config(prefix, 'A'), config(prefix, 'B')]);
      if (a === undefined || b === undefined) throw new Error('no workers');

      if (scenario.warm) {
        await b.request('set', { key, value: { by: 'old' }, options: { ttl: '50ms', tags: [TAG] } });
        await sleep(120);
        expect(await a.get(key)).toBeUndefined(); // stale: A will fetch
        expect(await redisCommand(privateRedis.server.port, ['EXISTS', rawKey])).toBe(1);
      } else {
        expect(await redisCommand(privateRedis.server.port, ['EXISTS', rawKey])).toBe(0);
      }

      // A starts a 300 ms fetch for K (5 callers) with a static tag.
      const aCall = a.burst(
        key,
        5,
        { delayMs: FETCH_MS, value: { by: 'A', version: 1 }, counterKey },
        { tags: [TAG] },
      );
      await a.waitForFetchStart(key);
      await sleep(INVALIDATE_AFTER_MS);
      const invalidated = performance.now();
      await scenario.invalidate(b, key);
      const invalidatedAt = Date.now();
      const invalidationMs = performance.now() - invalidated;

      const aResult = await aCall;
      // The scenario is only meaningful if the invalidation finished while A was still fetching.
      expect(aResult.finishedAt).toBeGreaterThanOrEqual(invalidatedAt);
      // A's callers, already waiting, still get A's value.
      expect(aResult.values).toEqual([{ value: { by: 'A', version: 1, fetchedBy: 'A' }, count: 5 }]);
      expect(aResult.fetches).toBe(1);

      // Nobody can read A's value: A, B, and C started afterwards.
      const [c] = await startWorkers([config(prefix, 'C')]);
      if (c === undefined) throw new Error('no worker C');
      const reads = await Promise.all([a, b, c].map((worker) => worker.get(key)));
      const raw = await redisCommand(privateRedis.server.port, ['GET', rawKey]);
      measure(
        `[no-stale-writes ${scenario.title}] invalidation took ${invalidationMs.toFixed(0)} ms, ` +
          `${(aResult.finishedAt - invalidatedAt).toFixed(0)} ms before A's fetch ended; reads A/B/C: ${JSON.stringify(reads)}; ` +
          `raw entry: ${raw === null ? 'none' : String(raw).slice(0, 160)}`,
      );
      const expected = scenario.afterwards === 'miss' ? undefined : scenario.afterwards;
      expect(reads).toEqual([expected, expected, expected]);
      if (scenario.entryGone) expect(raw).toBeNull();
      if (typeof raw === 'string' && scenario.afterwards !== 'miss') expect(raw).not.toContain('"by":"A"');
      expect(await counterOf(counterKey)).toBe(1);

      // A value fetched after the invalidation is stored normally: C fetches (or, after B's set,
      // is served B's value), and every process then reads it.
      const cResult = await c.burst(
        key,
        3,
        { delayMs: 20, value: { by: 'C', version: 3 }, counterKey },
        { tags: [TAG] },
      );
      const cValue = onlyValue(cResult);
      if (scenario.afterwards === 'miss') {
        expect(cValue).toEqual({ by: 'C', version: 3, fetchedBy: 'C' });
        expect(cResult.fetches).toBe(1);
      } else {
        expect(cValue).toEqual(scenario.afterwards);
        expect(cResult.fetches).toBe(0);
      }
      expect(await Promise.all([a, b, c].map((worker) => worker.get(key)))).toEqual([cValue, cValue, cValue]);
      // ...and a later getOrSet in another process is a hit: no new fetch.
      const again = await a.burst(
        key,
        2,
        { delayMs: 20, value: { by: 'A-again' }, counterKey },
        { tags: [TAG] },
      );
      expect(onlyValue(again)).toEqual(cValue);
      expect(again.fetches).toBe(0);
    }, 60_000);
  }

  // DESIGN.md: "A call that starts after the invalidation never joins the older fetch" - here the
  // call is in another process, while A's fetch (and, for tags, A's lease) is still running.
  for (const [title, invalidate] of [
    ['delete(K)', (b: CacheWorker, key: string) => b.request('delete', { key })],
    ['invalidateTags([tag])', (b: CacheWorker) => b.request('invalidateTags', { tags: [TAG] })],
    ['deleteByPattern', (b: CacheWorker) => b.request('deleteByPattern', { pattern: 'nsw:item:*' })],
  ] as const) {
    it(`a getOrSet in another process that starts after ${title} fetches anew and never gets A's value`, async () => {
      const prefix = uniquePrefix('nsw-late');
      const key = 'nsw:item:7';
      const counterKey = `counter:${prefix}`;
      const [a, b] = await startWorkers([config(prefix, 'A'), config(prefix, 'B')]);
      if (a === undefined || b === undefined) throw new Error('no workers');

      const aCall = a.burst(key, 3, { delayMs: FETCH_MS, value: { by: 'A' }, counterKey }, { tags: [TAG] });
      await a.waitForFetchStart(key);
      await sleep(INVALIDATE_AFTER_MS);
      await invalidate(b, key);
      const bResult = await b.burst(key, 5, { delayMs: 20, value: { by: 'B' }, counterKey }, { tags: [TAG] });
      const aResult = await aCall;

      expect(aResult.values).toEqual([{ value: { by: 'A', fetchedBy: 'A' }, count: 3 }]);
      expect(onlyValue(bResult)).toEqual({ by: 'B', fetchedBy: 'B' });
      expect(bResult.fetches).toBe(1);
      // B's value stands; A's late result did not overwrite it.
      const [c] = await startWorkers([config(prefix, 'C')]);
      if (c === undefined) throw new Error('no worker C');
      const reads = await Promise.all([a, b, c].map((worker) => worker.get(key)));
      measure(
        `[no-stale-writes late caller after ${title}] B waited ${bResult.elapsedMs.toFixed(0)} ms; reads A/B/C: ${JSON.stringify(reads)}`,
      );
      expect(reads).toEqual(Array(3).fill({ by: 'B', fetchedBy: 'B' }));
      expect(await counterOf(counterKey)).toBe(2);
    }, 60_000);
  }
});
