import { EventEmitter } from 'node:events';
import type { CacheStore } from '@org/cache-core';
import { type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';

export type FaultMode = 'ok' | 'fail' | 'hang';

/**
 * A keyv-shaped store over a Map whose behaviour the test switches at run time: answer, fail, or
 * never answer. Not in-process as far as core knows, so core applies its deadlines to it.
 */
export interface FaultyStore extends CacheStore {
  mode: FaultMode;
  /** When above 0, batch operations (getMany, setMany, deleteMany) answer after this many ms. */
  slowBatchesMs: number;
  readonly map: Map<string, unknown>;
  /** Store calls made, by operation. */
  readonly calls: Map<string, number>;
  totalCalls(): number;
}

export function faultyStore(): FaultyStore {
  const map = new Map<string, unknown>();
  const calls = new Map<string, number>();
  const emitter = new EventEmitter();
  const store = {
    mode: 'ok' as FaultMode,
    slowBatchesMs: 0,
    map,
    calls,
    opts: {},
    namespace: undefined,
    totalCalls: () => [...calls.values()].reduce((sum, count) => sum + count, 0),
    on(event: string, listener: (...args: unknown[]) => void) {
      emitter.on(event, listener);
      return store;
    },
    emit: (event: string, ...args: unknown[]) => emitter.emit(event, ...args),
    get: (key: string) => act('get', () => map.get(key)),
    getMany: (keys: string[]) => act('getMany', () => keys.map((key) => map.get(key))),
    set: (key: string, value: unknown) => act('set', () => void map.set(key, value)),
    setMany: (entries: Array<{ key: string; value: unknown }>) =>
      act('setMany', () => {
        for (const entry of entries) map.set(entry.key, entry.value);
      }),
    delete: (key: string) => act('delete', () => map.delete(key)),
    deleteMany: (keys: string[]) => act('deleteMany', () => keys.every((key) => map.delete(key))),
    clear: () => act('clear', () => map.clear()),
    async *iterator() {
      const entries = await act('iterator', () => [...map.entries()]);
      yield* entries;
    },
  };
  function act<T>(operation: string, run: () => T): Promise<T> {
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    if (store.mode === 'fail') return Promise.reject(new Error(`${operation} failed: connection refused`));
    if (store.mode === 'hang') return new Promise<T>(() => {});
    if (store.slowBatchesMs > 0 && operation.endsWith('Many')) {
      return new Promise<T>((resolve) => setTimeout(() => resolve(run()), store.slowBatchesMs));
    }
    return Promise.resolve(run());
  }
  return store as unknown as FaultyStore;
}

/** An in-process store that keeps objects by reference, as the memory adapter does. */
export function structuredStore(): CacheStore & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  const capabilities: StoreCapabilities = {
    name: 'test-structured',
    structuredValues: true,
    inProcess: true,
    getSync: (key) => map.get(key),
  };
  return {
    map,
    opts: {},
    on() {
      return this;
    },
    get: async (key: string) => map.get(key),
    set: async (key: string, value: unknown) => {
      map.set(key, value);
      return true;
    },
    delete: async (key: string) => map.delete(key),
    clear: async () => map.clear(),
    async *iterator() {
      for (const entry of [...map.entries()]) yield entry;
    },
    [storeCapabilities]: capabilities,
  } as unknown as CacheStore & { map: Map<string, unknown> };
}

/** A promise with its resolve/reject exposed: lets a test decide when a fetch finishes. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run (several turns, since flights chain a few awaits). */
export async function flush(turns = 10): Promise<void> {
  for (let index = 0; index < turns; index++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A Map store with leases, the way the Redis adapter gives them: SET NX with a token, a commit
 * that writes only while the token holds, and set/delete revoking the lease. Several caches on
 * one instance stand for several processes on one Redis.
 */
export function leasingStore() {
  const map = new Map<string, unknown>();
  const leases = new Map<string, { token: string; expires: number }>();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const live = (key: string) => {
    const lease = leases.get(key);
    if (lease !== undefined && lease.expires <= performance.now()) leases.delete(key);
    return leases.get(key);
  };
  const capabilities: StoreCapabilities = {
    name: 'test-leasing',
    leases: {
      async acquire(key, token, ttlMs) {
        if (live(key) !== undefined) return false;
        leases.set(key, { token, expires: performance.now() + ttlMs });
        return true;
      },
      async commit(key, token, value) {
        if (live(key)?.token !== token) return false;
        map.set(key, value);
        leases.delete(key);
        wake();
        return true;
      },
      async release(key, token) {
        if (live(key)?.token === token) leases.delete(key);
        wake();
      },
      waitForRelease(key, timeoutMs, signal) {
        return new Promise<void>((resolve) => {
          const done = () => {
            if (live(key) !== undefined && !signal?.aborted) return;
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          signal?.addEventListener('abort', done, { once: true });
          const timer = setTimeout(() => {
            waiters.delete(done);
            resolve();
          }, timeoutMs);
          waiters.add(done);
          done();
        });
      },
      async revokeMatching() {
        leases.clear();
        wake();
      },
    },
  };
  const store = {
    map,
    leases,
    opts: {},
    on() {
      return store;
    },
    get: async (key: string) => map.get(key),
    set: async (key: string, value: unknown) => {
      map.set(key, value);
      leases.delete(key);
      wake();
      return true;
    },
    delete: async (key: string) => {
      leases.delete(key);
      wake();
      return map.delete(key);
    },
    clear: async () => map.clear(),
    async *iterator() {
      yield* [...map.entries()];
    },
    [storeCapabilities]: capabilities,
  };
  return store as unknown as CacheStore & { map: Map<string, unknown>; leases: typeof leases };
}
