import { createCache } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { redisCommand, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorkers, stopAllWorkers } from './workers/pool.js';

// getManyOrSet across processes on one Redis (DESIGN.md "Coalescing"): keys another process is
// fetching (it holds their leases) are not fetched by the batch: it waits, then reads them. The
// workers run the BUILT packages (`pnpm -s build` first). The machine's Redis, a prefix per test.

const url = sharedRedisUrl();
const port = Number(new URL(url).port || 6379);
const keysOf = (count: number) => Array.from({ length: count }, (_, index) => `p:${index}`);
const opened: Array<ReturnType<typeof createCache>> = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
  await stopAllWorkers();
});

async function cleanup(prefix: string) {
  const keys = (await redisCommand(port, ['KEYS', `${prefix}*`])) as string[];
  if (keys.length > 0) await redisCommand(port, ['DEL', ...keys]);
}

describe('getManyOrSet across processes on one Redis', () => {
  it('100 keys, 30 cached, 20 being fetched by another process: one batch call for the other 50, the 20 read from it', async () => {
    const prefix = uniquePrefix('batch-lease');
    try {
      // Lease waits are generous: the other process's fetch lasts 1.5 s on a busy machine.
      const cache = createCache({ store: redisStore({ url }), prefix, lease: { ttl: '20s', wait: '20s' } });
      opened.push(cache);
      const [other] = await startWorkers([
        { name: 'other', prefix, redis: { url }, lease: { ttl: '20s', wait: '20s' } },
      ]);
      if (other === undefined) throw new Error('no worker');
      const keys = keysOf(100);
      for (const key of keys.slice(0, 30)) await cache.set(key, { key, cached: true });
      const elsewhere = keys
        .slice(30, 50)
        .map((key) => other.burst(key, 1, { delayMs: 1_500, value: { key, from: 'the other process' } }));
      // Every one of the 20 fetches has started: the other process holds their leases.
      await Promise.all(keys.slice(30, 50).map((key) => other.waitForFetchStart(key)));
      const asked: string[][] = [];
      const values = await cache.getManyOrSet(keys, async (missing) => {
        asked.push(missing);
        return missing.map((key) => ({ key, from: 'this batch' }));
      });
      await Promise.all(elsewhere);
      expect(asked).toEqual([keys.slice(50)]);
      expect(values.slice(0, 30)).toEqual(keys.slice(0, 30).map((key) => ({ key, cached: true })));
      expect(values.slice(30, 50)).toEqual(
        keys.slice(30, 50).map((key) => ({ key, from: 'the other process', fetchedBy: 'other' })),
      );
      expect(values.slice(50)).toEqual(keys.slice(50).map((key) => ({ key, from: 'this batch' })));
      const totals = cache.stats().totals;
      expect({
        hits: totals.hits,
        misses: totals.misses,
        coalesced: totals.coalesced,
        fetches: totals.fetches,
      }).toEqual({
        hits: 30,
        misses: 70,
        coalesced: 20,
        fetches: 50,
      });
      // Every value landed in Redis: another process reads them all as hits.
      expect(await other.request<{ values: unknown[] }>('getMany', { keys })).toEqual({ values });
    } finally {
      await cleanup(prefix);
    }
  });

  it('3 processes batch-loading the same 60 keys at once fetch each key once in total', async () => {
    const prefix = uniquePrefix('batch-race');
    try {
      const lease = { ttl: '20s', wait: '20s' };
      const workers = await startWorkers(
        ['a', 'b', 'c'].map((name) => ({ name, prefix, redis: { url }, lease })),
      );
      const keys = keysOf(60);
      const counterKey = `${prefix}:counter`;
      const results = await Promise.all(
        workers.map((worker) => worker.batch(keys, { delayMs: 300, counterKey })),
      );
      expect(Number(await redisCommand(port, ['GET', counterKey]))).toBe(60);
      const fetchedBy = results[0]?.values.map((value) => value?.fetchedBy);
      for (const result of results) {
        expect(result.values.map((value) => value?.key)).toEqual(keys);
        // One value per key for everybody, whoever fetched it.
        expect(result.values.map((value) => value?.fetchedBy)).toEqual(fetchedBy);
        expect(result.stats.hits + result.stats.misses).toBe(60);
      }
      expect(results.reduce((sum, result) => sum + result.stats.fetches, 0)).toBe(60);
    } finally {
      await cleanup(prefix);
    }
  });
});
