import { type Cache, createCache } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cachectl, records } from './support/cachectl.js';
import { type RedisCluster, startRedisCluster, stopAllRedisServers } from './support/redis.js';

// --cluster: the URL is a seed node; pattern operations must visit every master and per-key
// reads must be routed to the key's node, or counts come out short.

let cluster: RedisCluster;
let cache: Cache;
const PREFIX = 'clu';
const ENTRIES = 300; // spread over the 3 masters' slots

beforeAll(async () => {
  cluster = await startRedisCluster();
  cache = createCache({
    store: redisStore({ cluster: { rootNodes: cluster.rootNodes } }),
    prefix: PREFIX,
    operationTimeout: '10s',
  });
  await cache.setMany(
    Array.from({ length: ENTRIES }, (_, id) => ({
      key: `orders:detail:${id}`,
      value: { id },
      tags: [`account:${id % 3}`],
    })),
  );
}, 90_000);

afterAll(async () => {
  await cache?.close();
  await cluster?.stop();
  await stopAllRedisServers();
});

it('stats, keys, get and invalidate see every master through one seed URL', async () => {
  const seed = cluster.rootNodes[0]?.url as string;
  const target = ['--cluster', '--url', seed, '--prefix', PREFIX, '--json'];
  const [stats, keys, get] = await Promise.all([
    cachectl(['stats', ...target]),
    cachectl(['keys', 'orders:detail:1*', ...target]),
    cachectl(['get', 'orders:detail:42', ...target]),
  ]);
  expect(stats.code).toBe(0);
  expect(JSON.parse(stats.stdout)).toMatchObject({ entries: ENTRIES, tagTokens: 3 });
  expect(keys.code).toBe(0);
  // 1, 10-19, 100-199
  expect(records(keys.stdout)).toHaveLength(111);
  expect(JSON.parse(get.stdout)).toMatchObject({
    state: 'fresh',
    value: { id: 42 },
    tags: [{ tag: 'account:0', current: true }],
  });

  const invalidated = await cachectl(['invalidate', '--pattern', 'orders:detail:1*', '--yes', ...target]);
  expect(invalidated.code).toBe(0);
  expect(JSON.parse(invalidated.stdout)).toMatchObject({ matched: 111, invalidated: 111 });
  expect(await cache.countByPattern('orders:*')).toBe(ENTRIES - 111);
});
