import { measure, redisCommand, uniquePrefix, usePrivateRedis } from '@org/cache-test-support';
import { describe, expect, it } from 'vitest';
import {
  type BurstResult,
  type CacheWorker,
  sleep,
  startWorkers,
  stopAllWorkers,
  tally,
  type WorkerConfig,
} from './workers/pool.js';

// Cross-process coalescing (DESIGN.md "Coalescing"): several Node processes on one Redis, each a
// cache of its own, hit one cold key at the same moment. The workers run the BUILT packages.

const PROCESSES = 4;
const CALLERS_PER_PROCESS = 250;
const FETCH_MS = 100;
const ROUNDS = 3;

const privateRedis = usePrivateRedis({ afterEach: stopAllWorkers });

const counterOf = async (counterKey: string) =>
  Number((await redisCommand(privateRedis.server.port, ['GET', counterKey])) ?? 0);

function configs(prefix: string, count: number, extra: Partial<WorkerConfig> = {}): WorkerConfig[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `p${index}`,
    prefix,
    redis: { url: privateRedis.server.url },
    ...extra,
  }));
}

/** Sends the burst to every worker at once (the 'go'); resolves with the results and the wall time. */
async function burstAcross(workers: CacheWorker[], key: string, callers: number, counterKey: string) {
  const started = performance.now();
  const results = await Promise.all(
    workers.map((worker) =>
      worker.burst(key, callers, {
        delayMs: FETCH_MS,
        value: { key, payload: 'from the source' },
        counterKey,
      }),
    ),
  );
  return { results, wallMs: performance.now() - started };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

function expectEveryCallerGotOneFetchedValue(results: BurstResult[], callers: number, key: string) {
  const { values, errors } = tally(results);
  expect(errors, JSON.stringify(results.flatMap((result) => result.errors).slice(0, 3))).toBe(0);
  expect(values.size, [...values.keys()].join(' | ')).toBe(1);
  const [[text, count]] = [...values] as [[string, number]];
  expect(count).toBe(callers);
  expect(JSON.parse(text)).toMatchObject({ key, payload: 'from the source' });
}

describe('cross-process stampede on one Redis', () => {
  it(`${PROCESSES} processes x ${CALLERS_PER_PROCESS} concurrent getOrSet on one cold key: 1 fetch in total`, async () => {
    const prefix = uniquePrefix('stampede');
    const workers = await startWorkers(configs(prefix, PROCESSES));
    await Promise.all(
      workers.map((worker) => worker.request('warmup', { key: `warmup:${worker.config.name}` })),
    );
    const single = workers[0] as CacheWorker;
    const total = PROCESSES * CALLERS_PER_PROCESS;

    const singleWalls: number[] = [];
    const multiWalls: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // The same burst (1000 callers) in one process: the baseline.
      const singleKey = `stampede:single:${round}`;
      const singleCounter = `counter:${prefix}:${singleKey}`;
      const alone = await burstAcross([single], singleKey, total, singleCounter);
      expectEveryCallerGotOneFetchedValue(alone.results, total, singleKey);
      expect(await counterOf(singleCounter)).toBe(1);
      singleWalls.push(alone.wallMs);

      // 4 processes x 250 callers, released at the same moment.
      const key = `stampede:multi:${round}`;
      const counterKey = `counter:${prefix}:${key}`;
      const spread = await burstAcross(workers, key, CALLERS_PER_PROCESS, counterKey);
      expectEveryCallerGotOneFetchedValue(spread.results, total, key);
      const fetches = await counterOf(counterKey);
      const reported = tally(spread.results).fetches;
      multiWalls.push(spread.wallMs);
      measure(
        `[stampede round ${round}] fetch count (Redis INCR): ${fetches}, fetches reported by processes: ${reported}, ` +
          `callers served: ${total}; wall ms single process (1 x ${total}): ${alone.wallMs.toFixed(1)}, ` +
          `${PROCESSES} processes (${PROCESSES} x ${CALLERS_PER_PROCESS}): ${spread.wallMs.toFixed(1)}; ` +
          `per-process ms: ${spread.results.map((result) => `${result.name}=${result.elapsedMs.toFixed(1)}`).join(' ')}`,
      );
      expect(fetches).toBe(1);
      expect(reported).toBe(1);
      // Exactly one process fetched; the others were served what it wrote.
      expect(spread.results.filter((result) => result.fetches > 0)).toHaveLength(1);
    }

    const singleMs = median(singleWalls);
    const multiMs = median(multiWalls);
    measure(
      `[stampede] median wall ms over ${ROUNDS} rounds: single process ${singleMs.toFixed(1)}, ` +
        `${PROCESSES} processes ${multiMs.toFixed(1)} (ratio ${(multiMs / singleMs).toFixed(2)}x; fetcher ${FETCH_MS} ms)`,
    );
    // "Within ~2x" of the single-process burst, with generous slack for a shared machine.
    expect(multiMs).toBeLessThan(3 * singleMs + 200);
  }, 60_000);

  it('the lease holder is SIGKILLed mid-fetch: the others fetch themselves within about the lease ttl', async () => {
    const LEASE_TTL_MS = 1_000;
    const prefix = uniquePrefix('stampede-crash');
    const [holder, ...survivors] = await startWorkers(
      configs(prefix, PROCESSES, { lease: { ttl: `${LEASE_TTL_MS}ms` } }),
    );
    if (holder === undefined) throw new Error('no workers');
    const key = 'stampede:crash';
    const counterKey = `counter:${prefix}:${key}`;
    await Promise.all(
      [holder, ...survivors].map((worker) =>
        worker.request('warmup', { key: `warmup:${worker.config.name}` }),
      ),
    );

    // The holder takes the lease and starts a 2 s fetch it will never finish.
    const doomed = holder.burst(key, CALLERS_PER_PROCESS, {
      delayMs: 2_000,
      value: { key, by: 'holder' },
      counterKey,
    });
    doomed.catch(() => {}); // it dies with the process
    const fetchStart = await holder.waitForFetchStart(key);
    const leaseTaken = performance.now();
    await sleep(500);

    // The others arrive while the lease is held: they must wait, not fetch.
    const survivorBursts = survivors.map((worker) =>
      worker.burst(
        key,
        CALLERS_PER_PROCESS,
        { delayMs: FETCH_MS, value: { key, by: 'survivor' }, counterKey },
        {},
        15_000,
      ),
    );
    const othersStarted = performance.now();
    await sleep(200);
    expect(await counterOf(counterKey)).toBe(1); // still only the holder's fetch
    await holder.kill();
    const killedAt = performance.now();

    const results = await Promise.all(survivorBursts);
    const doneAt = performance.now();
    const fetches = await counterOf(counterKey);
    const waited = Math.max(...results.map((result) => result.elapsedMs));
    measure(
      `[stampede crash] lease ttl ${LEASE_TTL_MS} ms; holder ${holder.config.name} (pid ${holder.pid}) SIGKILLed ` +
        `${(killedAt - leaseTaken).toFixed(0)} ms into its 2000 ms fetch; survivors waited max ${waited.toFixed(0)} ms ` +
        `(per process: ${results.map((result) => `${result.name}=${result.elapsedMs.toFixed(0)}`).join(' ')}), ` +
        `value ${(doneAt - killedAt).toFixed(0)} ms after the kill, ` +
        `${(doneAt - leaseTaken).toFixed(0)} ms after the crashed lease was taken; total fetch count ${fetches}`,
    );
    expect(fetchStart.name).toBe(holder.config.name);

    const { values, errors } = tally(results);
    expect(errors, JSON.stringify(results.flatMap((result) => result.errors).slice(0, 3))).toBe(0);
    expect(values.size, [...values.keys()].join(' | ')).toBe(1);
    const [[text, count]] = [...values] as [[string, number]];
    expect(count).toBe(survivors.length * CALLERS_PER_PROCESS);
    expect(JSON.parse(text)).toMatchObject({ key, by: 'survivor' });
    // The crashed fetch and one replacement: the survivors still coalesced among themselves.
    expect(fetches).toBe(2);
    // Nobody hung: the wait is bounded by the crashed lease's remaining life plus one fetch.
    expect(doneAt - othersStarted).toBeLessThan(LEASE_TTL_MS + FETCH_MS + 1_500);
    // And what the replacement fetched is cached for everyone.
    expect(await (survivors[0] as CacheWorker).get(key)).toEqual(JSON.parse(text));
  }, 60_000);
});
