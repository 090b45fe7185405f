import { type Cache, createCache } from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { flush, gate, instances, sleep, type UnitInstance } from './support/in-process.js';

// What an instance keeps in its L1, for how long, and what a hit costs (in-process bus, no Redis).

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((closable) => closable.close()));
});

function pair(options: { l1Ttl?: number } = {}) {
  const setup = instances(2, options);
  const [a, b] = setup.instances as [UnitInstance, UnitInstance];
  open.push({ close: () => a.store.disconnect() }, { close: () => b.store.disconnect() });
  return { ...setup, a, b };
}

function caches(a: UnitInstance, b: UnitInstance): [Cache, Cache] {
  const caches: [Cache, Cache] = [
    createCache({ store: a.store, prefix: 'bff' }),
    createCache({ store: b.store, prefix: 'bff' }),
  ];
  open.push(...caches);
  return caches;
}

/** What this instance's L1 holds for a raw store key, without going through the tiered store. */
const inL1 = (instance: UnitInstance, key: string) => instance.l1[storeCapabilities].getSync?.(key);

describe('L1 hits', () => {
  it('an L1 hit does no L2 read (raw store)', async () => {
    const { a, b } = pair();
    await a.store.set('k', 'v');
    expect(await b.store.get('k')).toBe('v');
    const { l1Hits, l2Reads } = b.store.stats;
    const reads = b.l2.reads;
    for (let read = 0; read < 10; read++) expect(await b.store.get('k')).toBe('v');
    expect(b.store.stats.l1Hits).toBe(l1Hits + 10);
    expect(b.store.stats.l2Reads).toBe(l2Reads);
    expect(b.l2.reads, 'calls that reached L2').toBe(reads);
  });

  it('an L1 hit through createCache does no L2 read, tagged entries included', async () => {
    const { a, b } = pair();
    const [cacheA, cacheB] = caches(a, b);
    await cacheA.set('orders:detail:1', { id: 1 }, { tags: ['account:1'] });
    await cacheA.set('orders:detail:2', { id: 2 });
    expect(await cacheB.get('orders:detail:1')).toEqual({ id: 1 });
    expect(await cacheB.get('orders:detail:2')).toEqual({ id: 2 });
    expect(await cacheB.getMany(['orders:detail:1', 'orders:detail:2'])).toEqual([{ id: 1 }, { id: 2 }]);
    const { l1Hits, l2Reads } = b.store.stats;
    const reads = b.l2.reads;
    expect(await cacheB.get('orders:detail:1')).toEqual({ id: 1 });
    expect(await cacheB.get('orders:detail:2')).toEqual({ id: 2 });
    expect(await cacheB.getMany(['orders:detail:1', 'orders:detail:2'])).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await cacheB.getOrSet('orders:detail:2', async () => ({ id: -1 }))).toEqual({ id: 2 });
    expect(b.store.stats.l2Reads).toBe(l2Reads);
    expect(b.l2.reads).toBe(reads);
    expect(b.store.stats.l1Hits).toBeGreaterThan(l1Hits + 4);
  });

  it('values read from L2 are deeply frozen, like L1 hits: a caller cannot change what others get', async () => {
    const { a, b } = pair();
    const [cacheA, cacheB] = caches(a, b);
    await cacheA.set('catalog:product:1', { name: 'one', price: { amount: 10 }, tags: ['x'] });
    await cacheA.set('catalog:product:2', { name: 'two', price: { amount: 20 }, tags: ['y'] });
    const readsBefore = b.store.stats.l2Reads;
    const fromL2 = (await cacheB.get('catalog:product:1')) as { price: { amount: number }; tags: string[] };
    const [fromMany] = (await cacheB.getMany(['catalog:product:2'])) as [{ price: { amount: number } }];
    expect(b.store.stats.l2Reads).toBe(readsBefore + 2);
    for (const value of [fromL2, fromL2.price, fromL2.tags, fromMany, fromMany.price]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    expect(() => {
      fromL2.price.amount = 0;
    }).toThrow(TypeError);
    expect(() => fromL2.tags.push('z')).toThrow(TypeError);
    const fromL1 = await cacheB.get('catalog:product:1');
    expect(fromL1).toBe(fromL2); // the same frozen object: no clone on the hot path
    expect(fromL1).toEqual({ name: 'one', price: { amount: 10 }, tags: ['x'] });
  });
});

describe('how long an L1 copy lives', () => {
  it('never longer than l1Ttl, whether written here or filled from L2; L2 keeps the entry', async () => {
    const { a, b, l2 } = pair({ l1Ttl: 60 });
    await a.store.set('k', 'v'); // no TTL: L2 keeps it
    expect(await b.store.get('k')).toBe('v');
    expect(inL1(a, 'k')).toBe('v');
    expect(inL1(b, 'k')).toBe('v');
    await sleep(120);
    expect(inL1(a, 'k')).toBeUndefined();
    expect(inL1(b, 'k')).toBeUndefined();
    expect(await l2.get('k')).toBe('v');
    const reads = b.store.stats.l2Reads;
    expect(await b.store.get('k')).toBe('v');
    expect(b.store.stats.l2Reads).toBe(reads + 1);
  });

  it('never longer than the entry lives in L2 (the envelope’s end of life, when L2 cannot tell its TTL)', async () => {
    const { a, b } = pair(); // l1Ttl: the default minute
    const [cacheA, cacheB] = caches(a, b);
    await cacheA.set('orders:detail:1', 'short', { ttl: 80 });
    expect(await cacheB.get('orders:detail:1')).toBe('short');
    expect(inL1(b, 'bff:orders:detail:1')).toBeDefined();
    await sleep(140);
    expect(inL1(a, 'bff:orders:detail:1')).toBeUndefined();
    expect(inL1(b, 'bff:orders:detail:1')).toBeUndefined();
    expect(await cacheB.get('orders:detail:1')).toBeUndefined();
  });
});

describe('a read from L2 that races an invalidation', () => {
  // B reads k from L2 and gets 'old'; before that read completes, k is changed and B drops its
  // (empty) L1 entry. The read may still return 'old' to its caller (it started first), but it
  // must not put 'old' into L1: every later read would be served 'old' for up to l1Ttl.

  it('does not fill L1 with a value invalidated by another instance while the read was in flight', async () => {
    const { a, b } = pair();
    await a.store.set('k', 'old');
    await flush();
    const held = gate();
    b.l2.holdReads = held.promise;
    const inFlight = b.store.get('k');
    await flush(); // B's L2 read has returned 'old' and is held back
    await a.store.set('k', 'new');
    await flush(); // A's message reached B
    expect(b.store.stats.bus?.received).toBe(2);
    b.l2.holdReads = undefined;
    held.open();
    expect(await inFlight).toBe('old');
    await sleep(20);
    expect(inL1(b, 'k'), 'B’s L1 after the raced read').not.toBe('old');
    expect(await b.store.get('k')).toBe('new');
  });

  it('does not overwrite this instance’s own newer write', async () => {
    const { a, b } = pair();
    await a.store.set('k', 'old');
    await flush();
    const held = gate();
    b.l2.holdReads = held.promise;
    const inFlight = b.store.get('k');
    await flush();
    b.l2.holdReads = undefined;
    await b.store.set('k', 'new');
    held.open();
    expect(await inFlight).toBe('old');
    expect(inL1(b, 'k')).not.toBe('old');
    expect(await b.store.get('k')).toBe('new');
  });

  it('does not fill L1 with a value read before the bus came back (messages in between were lost)', async () => {
    const { a, b } = pair();
    await a.store.set('k', 'old');
    await flush();
    b.bus.disconnect(); // B reads L2 directly while its bus is down
    const held = gate();
    b.l2.holdReads = held.promise;
    const inFlight = b.store.get('k');
    await flush();
    await a.store.set('k', 'new'); // lost for B
    b.bus.reconnect();
    b.l2.holdReads = undefined;
    held.open();
    expect(await inFlight).toBe('old');
    expect(inL1(b, 'k')).not.toBe('old');
    expect(await b.store.get('k')).toBe('new');
  });
});
