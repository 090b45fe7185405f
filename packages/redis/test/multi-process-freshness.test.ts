import { measure, redisCommand, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { type BurstResult, type CacheWorker, startWorkers, stopAllWorkers, tally } from './workers/pool.js';

// Eager refresh and soft timeouts across Node processes on one Redis (issue #15): the lease is the
// refresh lock, so a hot key past its refresh point is refreshed once per cluster, not once per
// process. The workers run the BUILT packages, on the machine's Redis under a unique prefix. Their
// clocks are moved by `advanceClock` (no sleeping to reach a refresh point); the upstream is a
// fetcher that INCRs a shared counter and answers after FETCH_MS.

const PROCESSES = 4;
const CALLERS = 100;
const FETCH_MS = 300;
const MINUTE = 60_000;
const redisPort = Number(new URL(sharedRedisUrl()).port || 6379);

afterEach(() => stopAllWorkers());

const counterOf = async (key: string) => Number((await redisCommand(redisPort, ['GET', key])) ?? 0);

async function startCluster(label: string, extra: { grace?: string } = {}) {
  const prefix = uniquePrefix(label);
  const workers = await startWorkers(
    Array.from({ length: PROCESSES }, (_, index) => ({
      name: `p${index}`,
      prefix,
      redis: { url: sharedRedisUrl() },
      strategy: { ttl: '1h' },
      ...extra,
    })),
  );
  await Promise.all(
    workers.map((worker) => worker.request('warmup', { key: `warmup:${worker.config.name}` })),
  );
  return { prefix, workers };
}

const advanceAll = (workers: CacheWorker[], by: number) =>
  Promise.all(workers.map((worker) => worker.request('advanceClock', { by })));

async function cleanup(workers: CacheWorker[], prefix: string) {
  await (workers[0] as CacheWorker).request('deleteByPattern', { pattern: '*' });
  await redisCommand(redisPort, ['DEL', `${prefix}-counter`]);
}

/** Polls until every worker reads `version` for `key`: a hang guard, not a performance claim. */
async function untilEveryoneReads(workers: CacheWorker[], key: string, version: unknown) {
  const deadline = performance.now() + 15_000;
  while (true) {
    const seen = await Promise.all(workers.map((worker) => worker.get(key)));
    if (seen.every((value) => (value as { version?: unknown } | undefined)?.version === version)) return;
    if (performance.now() > deadline) throw new Error(`workers still read ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function onlyValue(results: BurstResult[]) {
  const { values, errors } = tally(results);
  expect(errors, JSON.stringify(results.flatMap((result) => result.errors).slice(0, 3))).toBe(0);
  expect(values.size, [...values.keys()].join(' | ')).toBe(1);
  return JSON.parse([...values.keys()][0] as string) as Record<string, unknown>;
}

describe('eager refresh across processes on one Redis', () => {
  it(`${PROCESSES} processes x ${CALLERS} callers on a hot key past its refresh point: 1 refresh per window, nobody waits`, async () => {
    const { prefix, workers } = await startCluster('eager');
    const key = 'catalog:product:hot';
    const counterKey = `${prefix}-counter`;
    await (workers[0] as CacheWorker).request('set', { key, value: { version: 0 } });
    const ROUNDS = 3;
    for (let round = 1; round <= ROUNDS; round++) {
      // Past 80% of the entry's hour (the entry was written at the start of this window).
      await advanceAll(workers, 50 * MINUTE);
      const results = await Promise.all(
        workers.map((worker) =>
          worker.burst(
            key,
            CALLERS,
            { delayMs: FETCH_MS, value: { version: round }, counterKey },
            { eagerRefresh: 0.8 },
          ),
        ),
      );
      // Every caller got the cached value: none waited for the refresh (it would have the new one).
      expect(onlyValue(results)).toMatchObject({ version: round - 1 });
      await untilEveryoneReads(workers, key, round);
      const reported = tally(results).fetches;
      const counted = await counterOf(counterKey);
      measure(
        `[eager refresh round ${round}] ${PROCESSES} x ${CALLERS} hits past the point: upstream calls so far ` +
          `${counted} (fetcher calls that started while the burst ran: ${reported}); max caller burst ms per process ` +
          `${results.map((result) => `${result.name}=${result.elapsedMs.toFixed(1)}`).join(' ')} (fetch ${FETCH_MS} ms)`,
      );
      expect(counted).toBe(round);
      // Hits on the refreshed entry start nothing: its own point is 48 minutes away.
      const after = await Promise.all(
        workers.map((worker) =>
          worker.burst(
            key,
            CALLERS,
            { delayMs: FETCH_MS, value: { version: -1 }, counterKey },
            { eagerRefresh: 0.8 },
          ),
        ),
      );
      expect(onlyValue(after)).toMatchObject({ version: round });
      expect(await counterOf(counterKey)).toBe(round);
    }
    const stats = await Promise.all(
      workers.map((worker) => worker.request<{ stats: { totals: Record<string, number> } }>('stats')),
    );
    const refreshes = stats.reduce((sum, { stats: { totals } }) => sum + (totals.refreshes ?? 0), 0);
    expect(refreshes).toBe(ROUNDS);
    expect(stats.reduce((sum, { stats: { totals } }) => sum + (totals.refreshErrors ?? 0), 0)).toBe(0);
    await cleanup(workers, prefix);
  }, 120_000);
});

describe('soft timeouts across processes on one Redis', () => {
  it('stale within grace: every process answers at the soft timeout, one fetch lands in the background', async () => {
    const { prefix, workers } = await startCluster('soft', { grace: '1h' });
    const key = 'billing:invoices:42';
    const counterKey = `${prefix}-counter`;
    await (workers[0] as CacheWorker).request('set', { key, value: { version: 0 } });
    await advanceAll(workers, 61 * MINUTE); // stale, inside the hour of grace
    const slowMs = 1_500;
    const results = await Promise.all(
      workers.map((worker) =>
        worker.burst(
          key,
          CALLERS,
          { delayMs: slowMs, value: { version: 1 }, counterKey },
          { softTimeout: 50, fetchTimeout: '30s' },
        ),
      ),
    );
    // The stale value, to everyone: no caller waited for the 1.5 s upstream.
    expect(onlyValue(results)).toEqual({ version: 0 });
    measure(
      `[soft timeout] softTimeout 50 ms, upstream ${slowMs} ms, ${PROCESSES} x ${CALLERS} callers: burst ms per process ` +
        `${results.map((result) => `${result.name}=${result.elapsedMs.toFixed(1)}`).join(' ')}`,
    );
    await untilEveryoneReads(workers, key, 1);
    expect(await counterOf(counterKey)).toBe(1);
    const stats = await Promise.all(
      workers.map((worker) => worker.request<{ stats: { totals: Record<string, number> } }>('stats')),
    );
    const totals = stats.map(({ stats: { totals } }) => totals);
    expect(totals.reduce((sum, t) => sum + (t.staleHits ?? 0), 0)).toBe(PROCESSES * CALLERS);
    expect(totals.every((t) => (t.softTimeouts ?? 0) === 1)).toBe(true);
    await cleanup(workers, prefix);
  }, 120_000);

  it('an invalidation from another process during the background fetch: its value is not written', async () => {
    const { prefix, workers } = await startCluster('soft-invalidate', { grace: '1h' });
    const [fetching, other] = workers as [CacheWorker, CacheWorker];
    const key = 'billing:invoices:43';
    const counterKey = `${prefix}-counter`;
    await fetching.request('set', { key, value: { version: 0 } });
    await advanceAll(workers, 61 * MINUTE);
    const burst = await fetching.burst(
      key,
      10,
      { delayMs: 1_000, value: { version: 'before the delete' }, counterKey },
      { softTimeout: 50, fetchTimeout: '30s' },
    );
    expect(onlyValue([burst])).toEqual({ version: 0 });
    await fetching.waitForFetchStart(key);
    expect(await other.request('delete', { key })).toEqual({ deleted: true });
    // Wait for the background fetch to have ended: its in-flight count drops to 0.
    const deadline = performance.now() + 15_000;
    while ((await fetching.request<{ stats: { inFlight: number } }>('stats')).stats.inFlight > 0) {
      if (performance.now() > deadline) throw new Error('the background fetch did not end');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await fetching.get(key)).toBeUndefined();
    expect(await other.get(key)).toBeUndefined();
    await cleanup(workers, prefix);
  }, 120_000);
});
