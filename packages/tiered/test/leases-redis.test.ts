import { type Cache, createCache, ttl } from '@org/cache-core';
import type { CacheBus } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import { type RedisServer, startRedisServer, uniquePrefix, waitFor } from '@org/cache-test-support';
import { manualClock, memoryBusHub } from '@org/cache-testing';
import { tieredStore } from '@org/cache-tiered';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// The lease lives in L2, the copies in each instance's L1. An instance that waited on another's
// lease, or just took a lease another let go, must read what the other wrote from L2: its own L1
// copy is older, and the bus message (or Redis push) that drops it may still be on its way.

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());
const opened: Cache[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

/** A bus endpoint whose deliveries can be held back: a message still on its way to this instance. */
function holdableBus(endpoint: CacheBus) {
  let held: Array<() => void> | undefined;
  const bus: CacheBus = {
    publish: (message) => endpoint.publish(message),
    subscribe: (listener) =>
      endpoint.subscribe((message) => {
        if (held === undefined) listener(message);
        else held.push(() => listener(message));
      }),
    onConnectionChange: (listener) => endpoint.onConnectionChange(listener),
    get connected() {
      return endpoint.connected;
    },
    close: () => endpoint.close(),
  };
  return {
    bus,
    hold: () => {
      held = [];
    },
    deliver: () => {
      const queued = held ?? [];
      held = undefined;
      for (const deliver of queued) deliver();
    },
  };
}

describe('tieredStore leases with an L1 copy the bus has not dropped yet', () => {
  it('eager refresh: the instance that waited on the lease reads the refreshed entry from L2 and does not refresh again', async () => {
    const prefix = uniquePrefix('tier-lease');
    const hub = memoryBusHub();
    const clock = manualClock();
    const toB = holdableBus(hub.connect());
    const [a, b] = [hub.connect(), toB.bus].map((bus) => {
      const cache = createCache({
        store: tieredStore({ l1: memoryStore(), l2: redisStore({ url: server.url }), bus }),
        prefix,
        clock,
        strategy: ttl('10s'),
      });
      opened.push(cache);
      return cache;
    }) as [Cache, Cache];
    await a.set('hot', 'v1');
    expect(await b.get('hot')).toBe('v1'); // now in B's L1
    clock.advance(8_500); // past the 0.8 refresh point
    const fetches: Array<(value: string) => void> = [];
    const fetcher = () => new Promise<string>((resolve) => fetches.push(resolve));
    const eager = { eagerRefresh: 0.8 };

    toB.hold();
    expect(await a.getOrSet('hot', fetcher, eager)).toBe('v1'); // A refreshes, holding the lease
    await waitFor('A’s refresh fetch starts', () => fetches.length === 1);
    expect(await b.getOrSet('hot', fetcher, eager)).toBe('v1'); // B waits on A's lease
    fetches[0]?.('v2');
    await waitFor('A’s refresh is written', async () => (await a.get('hot')) === 'v2');
    await waitFor('B’s wait on the lease ends', () => b.stats().inFlight === 0);
    // A's bus message has not reached B: B's L1 would still say v1, past its refresh point.
    expect(await b.getOrSet('hot', fetcher, eager)).toBe('v2');
    await waitFor('B settles', () => b.stats().inFlight === 0);
    expect(fetches).toHaveLength(1);
    expect(b.stats().buckets.default?.refreshes).toBe(0);
    toB.deliver();
  });
});
