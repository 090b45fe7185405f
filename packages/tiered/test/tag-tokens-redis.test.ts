import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { type RedisServer, startRedisServer, uniquePrefix, waitFor } from '@org/cache-test-support';
import { tieredStore } from '@org/cache-tiered';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// Tag tokens are created in L2 only where absent (SET NX GET), and L1 keeps the token that won:
// two instances whose fetches race to create one tag's token record the same token.

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());
const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

async function instance(prefix: string, channel: string): Promise<Cache> {
  const bus = redisBus({ url: server.url, channel });
  const cache = createCache({
    store: tieredStore({ l1: memoryStore(), l2: redisStore({ url: server.url }), bus }),
    prefix,
  });
  opened.push(() => cache.close());
  await bus.ready();
  return cache;
}

describe('a tag token created by racing instances', () => {
  it('is one token: entries fetched at once on two instances stay hits, and one invalidation drops them all', async () => {
    const prefix = uniquePrefix('tier-tags');
    const channel = uniquePrefix('tier-tags-bus');
    const caches = [await instance(prefix, channel), await instance(prefix, channel)];
    let fetches = 0;
    const ids = [1, 2, 3, 4, 5, 6];
    const load = (id: number) =>
      (caches[id % 2] as Cache).getOrSet(
        `catalog:bundles:${id}`,
        () => {
          fetches++;
          return { id };
        },
        { tags: ['product:A'] },
      );
    await Promise.all(ids.map(load));
    expect(fetches).toBe(6);
    await Promise.all(ids.map(load));
    expect(fetches).toBe(6);
    const [invalidator, other] = caches as [Cache, Cache];
    await invalidator.invalidateTags(['product:A']);
    // The invalidating instance drops them at once; the other when the bus message arrives (a few
    // ms, the bus's contract: see "Two tiers" in the README), which a loaded machine can delay
    // past six local reads (suite run 3 of 3, this session).
    for (const id of ids) expect(await invalidator.get(`catalog:bundles:${id}`)).toBeUndefined();
    await waitFor('the other instance to drop them', async () => {
      const values = await Promise.all(ids.map((id) => other.get(`catalog:bundles:${id}`)));
      return values.every((value) => value === undefined);
    });
  });
});
