import { createCache, type Duration, eventDriven } from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import {
  type RedisServer,
  redisCommand,
  sleep,
  startRedisServer,
  uniquePrefix,
} from '@org/cache-test-support';
import { tieredStore } from '@org/cache-tiered';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// With a Redis L2 the tiered store asks Redis how long an entry has left (PTTL) and fills L1 for
// no longer than that: an L1 copy disappears when the L2 entry does, whatever l1Ttl says.

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());
const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
});

function instance(l1Ttl: Duration = '1m') {
  const l1 = memoryStore();
  const bus = redisBus({ url: server.url, channel: uniquePrefix('ttl-bus') });
  const store = tieredStore({ l1, l2: redisStore({ url: server.url }), bus, l1Ttl });
  open.push(
    () => store.disconnect(),
    () => bus.close(),
  );
  return { store, bus, inL1: (key: string) => l1[storeCapabilities].getSync?.(key) };
}

const pttl = (key: string) => redisCommand(server.port, ['PTTL', key]) as Promise<number>;

describe('an L1 copy of a Redis entry lives no longer than the entry’s PTTL', () => {
  it('get: the L1 copy is gone when the PTTL elapses, although l1Ttl is a minute', async () => {
    const { store, bus, inL1 } = instance();
    await bus.ready();
    const key = `${uniquePrefix('get')}:k`;
    await redisCommand(server.port, ['SET', key, 'written by another program', 'PX', '300']);
    expect(await store.get(key)).toBe('written by another program');
    expect(inL1(key)).toBe('written by another program');
    await sleep(150);
    expect(inL1(key), 'still in L1 half-way through its PTTL').toBe('written by another program');
    await sleep(Math.max(0, (await pttl(key)) + 50));
    expect(await pttl(key)).toBe(-2);
    expect(inL1(key)).toBeUndefined();
    expect(await store.get(key)).toBeUndefined();
  });

  it('getMany: the L1 copies are gone when their PTTL elapses', async () => {
    const { store, bus, inL1 } = instance();
    await bus.ready();
    const key = `${uniquePrefix('many')}:k`;
    await redisCommand(server.port, ['SET', key, 'short-lived', 'PX', '300']);
    expect(await store.getMany([key])).toEqual(['short-lived']);
    await sleep(400);
    expect(await pttl(key)).toBe(-2);
    expect(inL1(key), 'L1 copy outlived the Redis entry').toBeUndefined();
    expect(await store.getMany([key])).toEqual([undefined]);
  });

  it('through createCache: an entry whose Redis TTL was shortened (PEXPIRE) leaves L1 with it', async () => {
    const { store, bus, inL1 } = instance();
    await bus.ready();
    const prefix = uniquePrefix('cache');
    const cache = createCache({ store, prefix, strategy: eventDriven({ safetyTtl: 0 }) });
    open.unshift(() => cache.close());
    const writer = createCache({ store: redisStore({ url: server.url }), prefix });
    open.push(() => writer.close());
    await writer.set('orders:detail:1', { id: 1 }); // no end of life in the envelope, no TTL in Redis
    await redisCommand(server.port, ['PEXPIRE', `${prefix}:orders:detail:1`, '300']);
    expect(await cache.get('orders:detail:1')).toEqual({ id: 1 });
    expect(inL1(`${prefix}:orders:detail:1`)).toBeDefined();
    await sleep(400);
    expect(inL1(`${prefix}:orders:detail:1`)).toBeUndefined();
    expect(await cache.get('orders:detail:1')).toBeUndefined();
  });

  it('through createCache getMany: an entry whose Redis TTL was shortened leaves L1 with it', async () => {
    const { store, bus, inL1 } = instance();
    await bus.ready();
    const prefix = uniquePrefix('cache-many');
    const cache = createCache({ store, prefix, strategy: eventDriven({ safetyTtl: 0 }) });
    open.unshift(() => cache.close());
    const writer = createCache({ store: redisStore({ url: server.url }), prefix });
    open.push(() => writer.close());
    await writer.set('orders:detail:1', { id: 1 });
    await redisCommand(server.port, ['PEXPIRE', `${prefix}:orders:detail:1`, '300']);
    expect(await cache.getMany(['orders:detail:1'])).toEqual([{ id: 1 }]);
    await sleep(400);
    expect(await redisCommand(server.port, ['EXISTS', `${prefix}:orders:detail:1`])).toBe(0);
    expect(await cache.getMany(['orders:detail:1']), 'served from L1 after Redis dropped it').toEqual([
      undefined,
    ]);
    expect(inL1(`${prefix}:orders:detail:1`)).toBeUndefined();
  });

  it('and no longer than l1Ttl when the PTTL is longer', async () => {
    const { store, bus, inL1 } = instance(100);
    await bus.ready();
    const key = `${uniquePrefix('cap')}:k`;
    await redisCommand(server.port, ['SET', key, 'long-lived', 'PX', '60000']);
    expect(await store.get(key)).toBe('long-lived');
    expect(inL1(key)).toBe('long-lived');
    await sleep(150);
    expect(inL1(key)).toBeUndefined();
    expect(await store.get(key)).toBe('long-lived');
  });
});
