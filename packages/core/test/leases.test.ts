import { createCache } from '@org/cache-core';
import { capabilitiesOf, type StoreCapabilities } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, flush, leasingStore } from './support/stores.js';

/**
 * Core's side of cross-process coalescing, on a store with leases. Caches sharing one store
 * object stand for processes sharing one Redis (the Redis tests do it with real processes).
 */
describe('cross-process leases', () => {
  const caches: Array<ReturnType<typeof createCache>> = [];
  const processes = (
    store: ReturnType<typeof leasingStore>,
    count: number,
    lease: { ttl: number; wait?: number } = { ttl: 2_000 },
  ) =>
    Array.from({ length: count }, () => {
      const cache = createCache({ store, prefix: 'bff', lease });
      caches.push(cache);
      return cache;
    });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  it('fetches once across processes: the others wait for the holder and read its value', async () => {
    const store = leasingStore();
    const gate = deferred<string>();
    let fetches = 0;
    const fetcher = () => {
      fetches++;
      return gate.promise;
    };
    const calls = processes(store, 4).flatMap((cache) =>
      Array.from({ length: 25 }, () => cache.getOrSet('orders:detail:1', fetcher)),
    );
    await flush();
    gate.resolve('the order');
    expect(await Promise.all(calls)).toEqual(Array(100).fill('the order'));
    expect(fetches).toBe(1);
    expect(store.leases.size).toBe(0);
  });

  it('lets a waiter fetch itself, without writing, when the holder outlives the wait', async () => {
    const store = leasingStore();
    const [holder, waiter] = processes(store, 2, { ttl: 5_000, wait: 50 });
    const slow = deferred<string>();
    const held = holder?.getOrSet('k', () => slow.promise);
    await flush();
    const started = performance.now();
    expect(await waiter?.getOrSet('k', () => 'fetched by the waiter')).toBe('fetched by the waiter');
    expect(performance.now() - started).toBeLessThan(2_000);
    // The waiter did not write: the lease holder's commit still lands.
    slow.resolve('from the holder');
    expect(await held).toBe('from the holder');
    expect(await waiter?.get('k')).toBe('from the holder');
  });

  it('takes over an expired lease of a crashed holder and stores its own value', async () => {
    const store = leasingStore();
    const [crashed, survivor] = processes(store, 2, { ttl: 60 });
    void crashed?.getOrSet('k', () => new Promise<string>(() => {})).catch(() => {});
    await flush();
    expect(store.leases.size).toBe(1);
    expect(await survivor?.getOrSet('k', () => 'after the crash')).toBe('after the crash');
    expect(await survivor?.get('k')).toBe('after the crash');
  });

  it('drops the holder\u2019s write when another process deletes the key during the fetch', async () => {
    const store = leasingStore();
    const [holder, other] = processes(store, 2);
    const slow = deferred<string>();
    const held = holder?.getOrSet('k', () => slow.promise);
    await flush();
    await other?.delete('k');
    slow.resolve('stale');
    expect(await held).toBe('stale');
    expect(await holder?.get('k')).toBeUndefined();
    expect(await other?.get('k')).toBeUndefined();
  });

  it('releases the lease when the fetch fails, so waiters fetch at once instead of waiting it out', async () => {
    const store = leasingStore();
    const [holder, waiter] = processes(store, 2, { ttl: 10_000 });
    const failing = deferred<string>();
    const held = holder?.getOrSet('k', () => failing.promise);
    await flush();
    const waiting = waiter?.getOrSet('k', () => 'waiter fetched');
    await flush();
    failing.reject(new Error('upstream down'));
    await expect(held).rejects.toThrow('upstream down');
    const started = performance.now();
    expect(await waiting).toBe('waiter fetched');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  /**
   * Holds the next `count` lease acquires on `store` until the returned gate opens: a process that
   * has read a miss is stopped just before its acquire, while another runs a whole fetch.
   */
  function holdNextAcquires(store: ReturnType<typeof leasingStore>, count: number) {
    const leases = capabilitiesOf(store)?.leases as NonNullable<StoreCapabilities['leases']>;
    const gate = deferred<void>();
    const acquire = leases.acquire.bind(leases);
    let held = 0;
    leases.acquire = async (key, token, ttlMs) => {
      if (held < count) {
        held++;
        await gate.promise;
      }
      return acquire(key, token, ttlMs);
    };
    return gate;
  }

  it('reads again after taking the lease: a miss overtaken by another process’s whole fetch does not fetch twice', async () => {
    const store = leasingStore();
    const [late, quick] = processes(store, 2);
    const gate = holdNextAcquires(store, 1);
    let fetches = 0;
    const fetcher = () => `fetch ${++fetches}`;
    // `late` has read the miss and is held just before its acquire...
    const lateCall = late?.getOrSet('k', fetcher);
    await flush();
    // ...while `quick` takes the lease, fetches, writes and lets go.
    expect(await quick?.getOrSet('k', fetcher)).toBe('fetch 1');
    expect(store.leases.size).toBe(0);
    gate.resolve();
    expect(await lateCall).toBe('fetch 1');
    expect(fetches).toBe(1);
    expect(store.leases.size).toBe(0);
    expect(late?.stats().buckets.default?.coalesced).toBe(1);
  });

  it('reads again after taking the leases of a batch: keys written meanwhile are not fetched again', async () => {
    const store = leasingStore();
    const [late, quick] = processes(store, 2);
    const gate = holdNextAcquires(store, 3);
    const asked: string[][] = [];
    const batch = (keys: string[]) => {
      asked.push(keys);
      return new Map(keys.map((key) => [key, `${key} from call ${asked.length}`]));
    };
    const lateCall = late?.getManyOrSet(['a', 'b', 'c'], batch);
    await flush();
    // Another process writes two of the three keys while the batch waits on its acquires.
    expect(await quick?.getManyOrSet(['a', 'b'], batch)).toEqual(['a from call 1', 'b from call 1']);
    gate.resolve();
    expect(await lateCall).toEqual(['a from call 1', 'b from call 1', 'c from call 2']);
    expect(asked).toEqual([['a', 'b'], ['c']]);
    expect(store.leases.size).toBe(0);
  });

  it('can be turned off: each process fetches for itself', async () => {
    const store = leasingStore();
    const [a, b] = [1, 2].map(() => {
      const cache = createCache({ store, prefix: 'bff', lease: false });
      caches.push(cache);
      return cache;
    });
    let fetches = 0;
    const gate = deferred<string>();
    const fetcher = () => {
      fetches++;
      return gate.promise;
    };
    const both = [a, b].map((cache) => cache?.getOrSet('k', fetcher));
    await flush();
    gate.resolve('v');
    await Promise.all(both);
    expect(fetches).toBe(2);
  });
});
