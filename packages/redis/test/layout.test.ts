import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Cache, createCache, eventDriven } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import {
  type RedisServer,
  redisBinary,
  redisCommand,
  startRedisServer,
  uniquePrefix,
} from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

let cache: Cache;
afterEach(() => cache?.close());

/** What an operator sees: `redis-cli --scan --pattern '<prefix>*'`, sorted. */
async function redisCliScan(prefix: string): Promise<string[]> {
  const { stdout } = await execFileAsync(
    redisBinary('redis-cli'),
    ['-p', String(server.port), '--scan', '--pattern', `${prefix}*`],
    { timeout: 5_000 },
  );
  return stdout.split('\n').filter(Boolean).sort();
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const seen: string[] = [];
  for await (const key of keys) seen.push(key);
  return seen.sort();
}

async function memoryUsage(keys: string[]): Promise<number> {
  const sizes = await Promise.all(keys.map((key) => redisCommand(server.port, ['MEMORY', 'USAGE', key])));
  return sizes.reduce<number>((sum, size) => sum + Number(size), 0);
}

describe('the key layout in Redis', () => {
  it('entries are <prefix>:<domain>:<bucket>:<id>, tag versions <prefix>::tag:<tag>, and no lease is left behind', async () => {
    const p = uniquePrefix('layout');
    cache = createCache({ store: redisStore({ url: server.url }), prefix: p });
    const orders = cache.domain('orders', {
      strategy: eventDriven({ safetyTtl: '12h' }),
      buckets: { summaries: {}, detail: {} },
    });
    let fetches = 0;
    const summaries = await Promise.all(
      Array.from({ length: 10 }, () =>
        orders.buckets.summaries.getOrSet(
          'acc_001',
          async () => {
            fetches++;
            return [{ id: 801 }];
          },
          { tags: ['account:001'] },
        ),
      ),
    );
    expect(summaries).toEqual(Array.from({ length: 10 }, () => [{ id: 801 }]));
    expect(fetches).toBe(1);
    await orders.buckets.summaries.set(['acc_002', 'jp'], [], { tags: ['account:002', 'product:A'] });
    await orders.buckets.detail.getOrSet('801', async () => ({ id: 801 }));
    await cache.getOrSet('plain', async () => 1, { tags: ['t'] });

    expect(await redisCliScan(p)).toEqual(
      [
        `${p}::tag:account:001`,
        `${p}::tag:account:002`,
        `${p}::tag:product:A`,
        `${p}::tag:t`,
        `${p}:orders:detail:801`,
        `${p}:orders:summaries:acc_001`,
        `${p}:orders:summaries:acc_002:jp`,
        `${p}:plain`,
      ].sort(),
    );
  });

  it('a lease exists only while its fetch runs, as <prefix>::lease:<key>, invisible to pattern operations', async () => {
    const p = uniquePrefix('lease');
    cache = createCache({ store: redisStore({ url: server.url }), prefix: p });
    let release = () => {};
    const fetching = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = () => {};
    const fetchStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const pending = cache.getOrSet('orders:1', async () => {
      started();
      await fetching;
      return 1;
    });
    await fetchStarted;
    expect(await redisCliScan(p)).toEqual([`${p}::lease:orders:1`]);
    expect(await collect(cache.scan('*'))).toEqual([]);
    expect(await cache.countByPattern('*')).toBe(0);
    expect(await cache.memoryUsageByPattern('*')).toBe(0);
    release();
    expect(await pending).toBe(1);
    expect(await redisCliScan(p)).toEqual([`${p}:orders:1`]);
  });
});

describe('internal keys are invisible to pattern operations', () => {
  it('scan, countByPattern and memoryUsageByPattern see entries only; deleteByPattern(*) leaves tag versions', async () => {
    const p = uniquePrefix('hidden');
    cache = createCache({ store: redisStore({ url: server.url }), prefix: p });
    await cache.set('orders:1', 1, { tags: ['account:001'] });
    await cache.getOrSet('orders:2', async () => 2, { tags: ['account:001', 'product:A'] });
    await cache.set('k', 3);
    const entries = [`${p}:k`, `${p}:orders:1`, `${p}:orders:2`];
    const tagKeys = [`${p}::tag:account:001`, `${p}::tag:product:A`];
    expect(await redisCliScan(p)).toEqual([...entries, ...tagKeys].sort());

    expect(await collect(cache.scan('*'))).toEqual(['k', 'orders:1', 'orders:2']);
    expect(await collect(cache.scan('*tag*'))).toEqual([]);
    expect(await cache.countByPattern('*')).toBe(3);
    expect(await cache.countByPattern('*:*')).toBe(2);
    expect(await cache.memoryUsageByPattern('*')).toBe(await memoryUsage(entries));

    expect(await cache.deleteByPattern('*')).toBe(3);
    expect(await redisCliScan(p)).toEqual(tagKeys.sort());
    expect(await cache.memoryUsageByPattern('*')).toBe(0);

    // The surviving tag versions still do their job.
    await cache.set('orders:3', 3, { tags: ['account:001'] });
    await cache.set('orders:4', 4, { tags: ['product:A'] });
    await cache.invalidateTags(['account:001']);
    expect(await cache.getMany(['orders:3', 'orders:4'])).toEqual([undefined, 4]);
  });
});
