import {
  measure,
  type RespReply,
  redisCommand,
  uniquePrefix,
  usePrivateCluster,
} from '@org/cache-test-support';
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

// The cross-process claims again, on a real 3-master Redis Cluster: every worker process uses
// redisStore({ cluster: { rootNodes } }) from the built packages.

const PROCESSES = 4;
const CALLERS_PER_PROCESS = 250;
const FETCH_MS = 100;

const privateCluster = usePrivateCluster({ afterEach: stopAllWorkers });

function configs(prefix: string, names: string[], extra: Partial<WorkerConfig> = {}): WorkerConfig[] {
  return names.map((name) => ({
    name,
    prefix,
    redis: { cluster: { rootNodes: privateCluster.cluster.rootNodes } },
    ...extra,
  }));
}

/** One command on the master that owns `key` (CLUSTER KEYSLOT + CLUSTER SLOTS), outside the adapter. */
async function onOwner(key: string, args: string[]): Promise<RespReply> {
  const anyPort = privateCluster.cluster.nodes[0]?.port ?? 0;
  const slot = Number(await redisCommand(anyPort, ['CLUSTER', 'KEYSLOT', key]));
  const ranges = (await redisCommand(anyPort, ['CLUSTER', 'SLOTS'])) as RespReply[][];
  const range = ranges.find(([start, end]) => slot >= Number(start) && slot <= Number(end));
  if (range === undefined) throw new Error(`no master for slot ${slot}`);
  return redisCommand(Number((range[2] as RespReply[])[1]), args);
}

const counterOf = async (counterKey: string) => Number((await onOwner(counterKey, ['GET', counterKey])) ?? 0);

function expectOneValueForAll(results: BurstResult[], callers: number): unknown {
  const { values, errors } = tally(results);
  expect(errors, JSON.stringify(results.flatMap((result) => result.errors).slice(0, 3))).toBe(0);
  expect(values.size, [...values.keys()].join(' | ')).toBe(1);
  const [[text, count]] = [...values] as [[string, number]];
  expect(count).toBe(callers);
  return JSON.parse(text);
}

describe('cross-process coalescing and no stale writes on a Redis Cluster', () => {
  it(`${PROCESSES} processes x ${CALLERS_PER_PROCESS} concurrent getOrSet on one cold key: 1 fetch in total`, async () => {
    const prefix = uniquePrefix('cluster-stampede');
    const workers = await startWorkers(configs(prefix, ['p0', 'p1', 'p2', 'p3']));
    await Promise.all(
      workers.map((worker) => worker.request('warmup', { key: `warmup:${worker.config.name}` })),
    );
    const total = PROCESSES * CALLERS_PER_PROCESS;

    const singleKey = 'stampede:single';
    const singleCounter = `counter:${prefix}:single`;
    let started = performance.now();
    const alone = await (workers[0] as CacheWorker).burst(singleKey, total, {
      delayMs: FETCH_MS,
      value: { key: singleKey },
      counterKey: singleCounter,
    });
    const singleMs = performance.now() - started;
    expectOneValueForAll([alone], total);

    // Several keys, so the lease and the entry land on different masters across rounds.
    const rounds: string[] = [];
    for (const key of ['stampede:multi:a', 'stampede:multi:b', 'product:{42}:detail']) {
      const counterKey = `counter:${prefix}:${key}`;
      started = performance.now();
      const results = await Promise.all(
        workers.map((worker) =>
          worker.burst(key, CALLERS_PER_PROCESS, { delayMs: FETCH_MS, value: { key }, counterKey }),
        ),
      );
      const wallMs = performance.now() - started;
      const value = expectOneValueForAll(results, total);
      expect(value).toMatchObject({ key });
      const fetches = await counterOf(counterKey);
      rounds.push(
        `${key}: fetch count ${fetches}, callers served ${total}, wall ms ${wallMs.toFixed(1)} ` +
          `(per process: ${results.map((result) => `${result.name}=${result.elapsedMs.toFixed(0)}`).join(' ')})`,
      );
      expect(fetches).toBe(1);
      expect(tally(results).fetches).toBe(1);
      expect(wallMs).toBeLessThan(3 * singleMs + 200);
    }
    measure(
      `[cluster stampede] single process (1 x ${total}) wall ms ${singleMs.toFixed(1)}, fetch count ${await counterOf(singleCounter)}; ` +
        `${PROCESSES} x ${CALLERS_PER_PROCESS}:\n  ${rounds.join('\n  ')}`,
    );
  }, 60_000);

  for (const [title, invalidate] of [
    ['delete(K)', (b: CacheWorker, key: string) => b.request('delete', { key })],
    ['deleteByPattern matching K', (b: CacheWorker) => b.request('deleteByPattern', { pattern: 'nsw:*:42' })],
  ] as const) {
    it(`no stale write: ${title} in process B during A's fetch of a cold key`, async () => {
      const prefix = uniquePrefix('cluster-nsw');
      const key = 'nsw:item:42';
      const rawKey = `${prefix}:${key}`;
      const counterKey = `counter:${prefix}`;
      const [a, b] = await startWorkers(configs(prefix, ['A', 'B']));
      if (a === undefined || b === undefined) throw new Error('no workers');
      expect(await onOwner(rawKey, ['EXISTS', rawKey])).toBe(0);

      const aCall = a.burst(
        key,
        5,
        { delayMs: 300, value: { by: 'A' }, counterKey },
        { tags: ['account:1'] },
      );
      await a.waitForFetchStart(key);
      await sleep(100);
      await invalidate(b, key);
      const invalidatedAt = Date.now();
      const aResult = await aCall;
      expect(aResult.finishedAt).toBeGreaterThanOrEqual(invalidatedAt);
      expect(aResult.values).toEqual([{ value: { by: 'A', fetchedBy: 'A' }, count: 5 }]);

      const [c] = await startWorkers(configs(prefix, ['C']));
      if (c === undefined) throw new Error('no worker C');
      const reads = await Promise.all([a, b, c].map((worker) => worker.get(key)));
      const raw = await onOwner(rawKey, ['GET', rawKey]);
      measure(
        `[cluster no-stale-writes, ${title}] reads A/B/C after A's fetch: ${JSON.stringify(reads)}; raw entry: ${String(raw)}`,
      );
      expect(reads).toEqual([undefined, undefined, undefined]);
      expect(raw).toBeNull();

      // The next fetch is stored normally and served everywhere.
      const cResult = await c.burst(
        key,
        3,
        { delayMs: 20, value: { by: 'C' }, counterKey },
        { tags: ['account:1'] },
      );
      expect(cResult.fetches).toBe(1);
      expect(await Promise.all([a, b, c].map((worker) => worker.get(key)))).toEqual(
        Array(3).fill({ by: 'C', fetchedBy: 'C' }),
      );
      expect(await counterOf(counterKey)).toBe(2);
    }, 60_000);
  }
});
