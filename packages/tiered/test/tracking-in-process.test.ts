import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import { type RedisServer, redisCommand, startRedisServer, uniquePrefix } from '@org/cache-test-support';
import { type TieredStore, tieredStore } from '@org/cache-tiered';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/instances.js';

// `coherence: 'tracking'` in one process against a private redis-server: the options, what Redis
// refuses (ACL), a flush, and a server that stops answering (paused: half-open from our side).

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());
const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

function trackedStore(l2Options: { username?: string; password?: string } = {}): TieredStore {
  const store = tieredStore({
    l1: memoryStore(),
    l2: redisStore({ url: server.url, ...l2Options }),
    coherence: 'tracking',
  });
  opened.push(() => store.disconnect());
  return store;
}

function cacheOn(store: TieredStore): Cache {
  const cache = createCache({ store, prefix: uniquePrefix('tracking'), operationTimeout: '5s' });
  opened.unshift(() => cache.close());
  return cache;
}

async function expectCode(action: () => unknown, code: string, message: RegExp): Promise<void> {
  try {
    await action();
  } catch (error) {
    expect(isCacheError(error) && error.code).toBe(code);
    expect((error as Error).message).toMatch(message);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('tieredStore coherence options', () => {
  it("refuses 'tracking' on an L2 that cannot track, 'bus' without a bus, and unknown modes", async () => {
    await expectCode(
      () => tieredStore({ l1: memoryStore(), l2: memoryStore(), coherence: 'tracking' }),
      'E_INVALID_OPTION',
      /needs a redisStore\(\) L2/,
    );
    await expectCode(
      () => tieredStore({ l1: memoryStore(), l2: memoryStore(), coherence: 'bus' }),
      'E_INVALID_OPTION',
      /needs a bus/,
    );
    await expectCode(
      () => tieredStore({ l1: memoryStore(), l2: memoryStore(), coherence: 'redis' as 'bus' }),
      'E_INVALID_OPTION',
      /coherence must be/,
    );
  });
});

describe("tieredStore({ coherence: 'tracking' }) in one process", { timeout: 30_000 }, () => {
  it('an ACL user without +client|tracking: ready() rejects with E_INVALID_OPTION; reads still work, around an unused L1', async () => {
    const username = uniquePrefix('no-tracking').replace(/[^a-z0-9-]/gi, '');
    await redisCommand(server.port, [
      'ACL',
      'SETUSER',
      username,
      'on',
      '>secret',
      '~*',
      '&*',
      '+@all',
      '-client|tracking',
    ]);
    const store = trackedStore({ username, password: 'secret' });
    await expectCode(() => store.ready(), 'E_INVALID_OPTION', /client\|tracking/);
    const cache = cacheOn(store);
    await cache.set('orders:1', { id: 1 });
    expect(await cache.get('orders:1')).toEqual({ id: 1 });
    expect(await cache.get('orders:1')).toEqual({ id: 1 });
    expect(store.l1InUse).toBe(false);
    expect(store.stats.l1Hits).toBe(0);
    // Tracking gave up for good: no connection of this user keeps retrying the handshake.
    const clients = String(await redisCommand(server.port, ['CLIENT', 'LIST']));
    const ofUser = clients.split('\n').filter((line) => line.includes(`user=${username} `));
    expect(ofUser.filter((line) => /flags=\S*t/.test(line))).toEqual([]);
  });

  it('a FLUSHALL (a null invalidation) empties L1; L1 fills again after', async () => {
    const store = trackedStore();
    await store.ready();
    const cache = cacheOn(store);
    await cache.set('orders:2', 'two');
    await cache.get('orders:2'); // fills L1, tracked
    const hits = store.stats.l1Hits;
    expect(await cache.get('orders:2')).toBe('two');
    expect(store.stats.l1Hits).toBe(hits + 1);
    await redisCommand(server.port, ['FLUSHALL']);
    await waitUntil('the flush reaches L1', () => store.stats.tracking?.flushes === 1, { timeoutMs: 5_000 });
    expect(await cache.get('orders:2')).toBeUndefined();
    await cache.set('orders:2', 'two again');
    expect(await cache.get('orders:2')).toBe('two again');
    expect(await cache.get('orders:2')).toBe('two again');
    expect(store.l1InUse).toBe(true);
  });

  it('a server that stops answering (paused): the heartbeat notices, L1 is bypassed, and used again once Redis answers', async () => {
    const paused = await startRedisServer();
    const store = tieredStore({
      l1: memoryStore(),
      l2: redisStore({ url: paused.url }),
      coherence: 'tracking',
    });
    opened.push(async () => {
      await store.disconnect();
      await paused.stop();
    });
    await store.ready();
    expect(store.l1InUse).toBe(true);
    paused.pause();
    try {
      // Heartbeat every 500 ms, stall after 2 s unanswered: seen within a few seconds.
      await waitUntil('the stall is noticed', () => !store.l1InUse, { timeoutMs: 10_000 });
      expect(store.stats.tracking?.stalls).toBeGreaterThanOrEqual(1);
    } finally {
      paused.resume();
    }
    await waitUntil('tracking is back', () => store.l1InUse, { timeoutMs: 10_000 });
  });
});
