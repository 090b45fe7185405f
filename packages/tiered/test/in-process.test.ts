import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { memoryBusHub } from '@org/cache-testing';
import { tieredStore } from '@org/cache-tiered';
import { afterEach, describe, expect, it } from 'vitest';

/** Instances of one service in one process: each its own L1 and bus endpoint, one shared L2. */
function cluster(count: number) {
  const l2 = memoryStore({ maxEntries: 10_000 });
  const hub = memoryBusHub();
  const instances = Array.from({ length: count }, () => {
    const bus = hub.connect();
    const store = tieredStore({ l1: memoryStore(), l2, bus });
    const cache = createCache({ store, prefix: 'bff' });
    return { bus, store, cache };
  });
  return { l2, hub, instances };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('tieredStore with an in-process bus', () => {
  const open: Cache[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((cache) => cache.close()));
  });

  it('serves a second read from L1 and sees another instance’s write after the bus message', async () => {
    const { instances } = cluster(2);
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    open.push(a.cache, b.cache);
    await a.cache.set('orders:detail:1', { v: 1 });
    expect(await b.cache.get('orders:detail:1')).toEqual({ v: 1 });
    const l2ReadsBefore = b.store.stats.l2Reads;
    expect(await b.cache.get('orders:detail:1')).toEqual({ v: 1 });
    expect(b.store.stats.l2Reads).toBe(l2ReadsBefore);
    await a.cache.set('orders:detail:1', { v: 2 });
    await flush();
    expect(await b.cache.get('orders:detail:1')).toEqual({ v: 2 });
    await a.cache.delete('orders:detail:1');
    await flush();
    expect(await b.cache.get('orders:detail:1')).toBeUndefined();
  });

  it('propagates tag invalidations and pattern deletes to other instances’ L1', async () => {
    const { instances } = cluster(2);
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    open.push(a.cache, b.cache);
    await a.cache.set('catalog:p:1', 'one', { tags: ['product:A'] });
    await a.cache.set('orders:x:1', 'x');
    expect(await b.cache.get('catalog:p:1')).toBe('one');
    expect(await b.cache.get('orders:x:1')).toBe('x');
    await a.cache.invalidateTags(['product:A']);
    await flush();
    expect(await b.cache.get('catalog:p:1')).toBeUndefined();
    await a.cache.deleteByPattern('orders:*');
    await flush();
    expect(await b.cache.get('orders:x:1')).toBeUndefined();
  });

  it('never serves an L1 entry invalidated while its bus was disconnected', async () => {
    const { instances } = cluster(2);
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    open.push(a.cache, b.cache);
    await a.cache.set('k', 'old');
    expect(await b.cache.get('k')).toBe('old');
    b.bus.disconnect();
    await a.cache.set('k', 'new');
    await flush();
    expect(await b.cache.get('k')).toBe('new');
    b.bus.reconnect();
    expect(await b.cache.get('k')).toBe('new');
  });

  it('drops L1 when it sees a gap in a sender’s sequence (lost messages)', async () => {
    const { hub, instances } = cluster(2);
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    open.push(a.cache, b.cache);
    await a.cache.set('k1', 'old');
    await a.cache.set('k2', 'old');
    await flush();
    expect(await b.cache.get('k1')).toBe('old');
    expect(await b.cache.get('k2')).toBe('old');
    hub.dropNext(1);
    await a.cache.set('k1', 'new'); // lost
    await a.cache.set('other', 'x'); // arrives with a gap in the sequence
    await flush();
    expect(await b.cache.get('k1')).toBe('new');
    expect(b.store.stats.bus?.gaps).toBe(1);
  });

  it('coalesces a stampede across instances through the L2 lease', async () => {
    // memoryStore has no leases: this is in-process coalescing per instance; the cross-process
    // case is tested on Redis. Each instance fetches at most once.
    const { instances } = cluster(3);
    open.push(...instances.map((instance) => instance.cache));
    let fetches = 0;
    const results = await Promise.all(
      instances.flatMap(({ cache }) =>
        Array.from({ length: 50 }, () =>
          cache.getOrSet('cold', async () => {
            fetches++;
            await new Promise((resolve) => setTimeout(resolve, 20));
            return 'value';
          }),
        ),
      ),
    );
    expect(results.every((value) => value === 'value')).toBe(true);
    expect(fetches).toBeLessThanOrEqual(3);
  });
});
