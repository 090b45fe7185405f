import { measure, redisCommand, uniquePrefix, usePrivateRedis } from '@org/cache-test-support';
import { describe, expect, it } from 'vitest';
import { type CacheWorker, startWorkers, stopAllWorkers, type WorkerConfig } from './workers/pool.js';

// DESIGN.md "Dependency tracking", across processes: invalidating a tag misses every dependent on
// every instance at once, costs O(1) round trips whatever the number of dependents, and does not
// rely on clocks agreeing.

const HOUR = 3_600_000;

const privateRedis = usePrivateRedis({ afterEach: stopAllWorkers });

function config(prefix: string, name: string, skewMs = 0): WorkerConfig {
  // Entries live a day: logical expiry does depend on the writer's clock, tags must not.
  return { name, prefix, redis: { url: privateRedis.server.url }, skewMs, strategy: { ttl: '1d' } };
}

const dependents = (count: number, tag: string) =>
  Array.from({ length: count }, (_, index) => ({
    key: `catalog:product:${index}`,
    value: { id: index, tag },
    tags: [tag],
  }));

async function getMany(worker: CacheWorker, keys: string[]): Promise<unknown[]> {
  // IPC's JSON turns `undefined` in an array into null: map back.
  const { values } = await worker.request<{ values: unknown[] }>('getMany', { keys });
  return values.map((value) => value ?? undefined);
}

/** Calls per command since the server started, from INFO commandstats (INFO itself excluded). */
async function commandCalls(): Promise<Map<string, number>> {
  const info = String(await redisCommand(privateRedis.server.port, ['INFO', 'commandstats']));
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const changes: Record<string, number> = {};
  for (const [command, count] of after) {
    const change = count - (before.get(command) ?? 0);
    if (change !== 0) changes[command] = change;
  }
  return changes;
}

const total = (changes: Record<string, number>) =>
  Object.values(changes).reduce((sum, count) => sum + count, 0);

describe('tags across processes', () => {
  it('invalidateTags in one process: the very next read of every dependent misses in each of 3 other processes', async () => {
    const prefix = uniquePrefix('tags-fanout');
    const [invalidator, ...readers] = await startWorkers(
      ['P0', 'P1', 'P2', 'P3'].map((name) => config(prefix, name)),
    );
    if (invalidator === undefined) throw new Error('no workers');
    const entries = dependents(50, 'product:A');
    const unrelated = [
      { key: 'catalog:product:other-tag', value: { other: true }, tags: ['product:B'] },
      { key: 'catalog:product:untagged', value: { untagged: true } },
    ];
    await invalidator.request('setMany', { entries: [...entries, ...unrelated] });
    const keys = [...entries, ...unrelated].map((entry) => entry.key);
    const expectedBefore = [...entries, ...unrelated].map((entry) => entry.value);

    // Every reader sees the entries (so a miss afterwards is the invalidation's doing).
    for (const reader of readers) expect(await getMany(reader, keys)).toEqual(expectedBefore);

    await invalidator.request('invalidateTags', { tags: ['product:A'] });
    const after = await Promise.all(readers.map((reader) => getMany(reader, keys)));
    const expectedAfter = [...entries.map(() => undefined), ...unrelated.map((entry) => entry.value)];
    measure(
      `[tags fan-out] after invalidateTags in P0: dependents still readable per reader: ${after
        .map(
          (values, index) =>
            `P${index + 1}=${values.slice(0, entries.length).filter((v) => v !== undefined).length}`,
        )
        .join(' ')} (of ${entries.length}); unrelated entries kept: ${after
        .map((values) => values.slice(entries.length).filter((v) => v !== undefined).length)
        .join('/')}`,
    );
    for (const values of after) expect(values).toEqual(expectedAfter);

    // The next getOrSet of a dependent in another process refetches and stores normally.
    const refill = await (readers[0] as CacheWorker).burst(
      'catalog:product:0',
      3,
      { delayMs: 10, value: { id: 0, refreshed: true } },
      { tags: ['product:A'] },
    );
    expect(refill.fetches).toBe(1);
    expect(await (readers[2] as CacheWorker).get('catalog:product:0')).toEqual({
      id: 0,
      refreshed: true,
      fetchedBy: 'P1',
    });
  }, 60_000);

  it('invalidateTags sends the same constant number of commands for 20 and for 2000 dependents', async () => {
    const prefix = uniquePrefix('tags-o1');
    const [invalidator, reader] = await startWorkers([config(prefix, 'P0'), config(prefix, 'P1')]);
    if (invalidator === undefined || reader === undefined) throw new Error('no workers');

    const measured: Array<{ count: number; changes: Record<string, number> }> = [];
    for (const count of [20, 2000, 20, 2000]) {
      const tag = `product:${count}-${measured.length}`;
      const entries = dependents(count, tag).map((entry) => ({ ...entry, key: `${tag}:${entry.key}` }));
      await invalidator.request('setMany', { entries });
      const keys = entries.map((entry) => entry.key);
      expect((await getMany(reader, keys)).filter((value) => value !== undefined)).toHaveLength(count);

      // Nothing else talks to this private server while the invalidation runs.
      const before = await commandCalls();
      await invalidator.request('invalidateTags', { tags: [tag] });
      const changes = delta(before, await commandCalls());
      measured.push({ count, changes });
      measure(
        `[tags O(1)] invalidateTags with ${count} dependents: ${total(changes)} Redis command(s) ${JSON.stringify(changes)}`,
      );

      expect((await getMany(reader, keys)).filter((value) => value !== undefined)).toHaveLength(0);
    }
    const totals = measured.map((entry) => total(entry.changes));
    expect(new Set(totals).size).toBe(1);
    expect(measured.map((entry) => entry.changes)).toEqual(Array(measured.length).fill(measured[0]?.changes));
    // One tag, one write: a constant, and a small one.
    expect(totals[0]).toBeLessThanOrEqual(2);
  }, 120_000);

  it('processes whose clocks disagree by ±1 h still see each other’s tag invalidations', async () => {
    const prefix = uniquePrefix('tags-skew');
    const workers = await startWorkers([
      config(prefix, 'behind', -HOUR),
      config(prefix, 'on-time', 0),
      config(prefix, 'ahead', +HOUR),
    ]);
    const rounds: string[] = [];
    // Every ordering that a clock-based version would get wrong: an invalidator behind the
    // writer (its "newer" version would look older) and ahead of it.
    for (const [writerIndex, invalidatorIndex] of [
      [2, 0],
      [0, 2],
      [1, 0],
      [1, 2],
      [0, 1],
      [2, 1],
    ] as const) {
      const writer = workers[writerIndex] as CacheWorker;
      const invalidator = workers[invalidatorIndex] as CacheWorker;
      const tag = `product:${writer.config.name}-${invalidator.config.name}`;
      const key = `catalog:skew:${writer.config.name}-${invalidator.config.name}`;
      const written = await writer.burst(key, 2, { delayMs: 5, value: { tag } }, { tags: [tag] });
      expect(written.fetches).toBe(1);
      const before = await Promise.all(workers.map((worker) => worker.get(key)));
      expect(before).toEqual(Array(3).fill({ tag, fetchedBy: writer.config.name }));

      await invalidator.request('invalidateTags', { tags: [tag] });
      const after = await Promise.all(workers.map((worker) => worker.get(key)));
      rounds.push(
        `written by ${writer.config.name}, invalidated by ${invalidator.config.name}: read after by behind/on-time/ahead = ${JSON.stringify(after)}`,
      );
      expect(after).toEqual([undefined, undefined, undefined]);

      // The refetch, by the third process, is stored and seen by all, whatever their clocks.
      const third = workers[3 - writerIndex - invalidatorIndex] as CacheWorker;
      const refetched = await third.burst(
        key,
        2,
        { delayMs: 5, value: { tag, again: true } },
        { tags: [tag] },
      );
      expect(refetched.fetches).toBe(1);
      expect(await Promise.all(workers.map((worker) => worker.get(key)))).toEqual(
        Array(3).fill({ tag, again: true, fetchedBy: third.config.name }),
      );
    }
    measure(`[tags clock skew ±1 h]\n  ${rounds.join('\n  ')}`);
  }, 60_000);
});
