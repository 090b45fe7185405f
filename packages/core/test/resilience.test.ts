import { type CacheStore, createCache, isCacheError } from '@org/cache-core';
import { describe, expect, it } from 'vitest';
import { faultyStore } from './support/stores.js';

describe('a store that hangs', () => {
  it('never hangs a caller: reads miss, getOrSet falls back to the fetcher, writes are dropped and counted', async () => {
    const store = faultyStore();
    const cache = createCache({
      store,
      prefix: 'r',
      operationTimeout: 40,
      breaker: { failureThreshold: 1000 },
    });
    await cache.set('k', 'before the outage');
    store.mode = 'hang';

    const started = performance.now();
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getOrSet('k', () => 'from the source')).toBe('from the source');
    await cache.set('k2', 'dropped');
    expect(performance.now() - started).toBeLessThan(2_000);

    const stats = cache.stats().buckets.default;
    expect(stats?.storeErrors).toBeGreaterThanOrEqual(3);
    expect(stats?.droppedWrites).toBeGreaterThanOrEqual(2);
    store.mode = 'ok';
    expect(await cache.get('k2')).toBeUndefined();
    expect(await cache.get('k')).toBe('before the outage');
    await cache.close();
  });

  it('gives a batch one operationTimeout per 100 entries, not one for the whole batch', async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'r', operationTimeout: 50 });
    // Every batch answers after 100 ms: past one deadline, inside ten. Timers fire in the order
    // they fall due, so on a slow machine too the store answers before a 500 ms deadline.
    store.slowBatchesMs = 100;
    const entries = (count: number, tag: string) =>
      Array.from({ length: count }, (_, index) => ({ key: `${tag}:${index}`, value: index }));

    await cache.setMany(entries(1_000, 'big'));
    expect(cache.stats().totals.droppedWrites).toBe(0);
    // Reading 1,000 keys back is one batch too, under the same 100 ms answer.
    const values = await cache.getMany(entries(1_000, 'big').map((entry) => entry.key));
    expect(values.filter((value) => value !== undefined)).toHaveLength(1_000);
    expect(cache.stats().totals.storeErrors).toBe(0);

    // The control: ten entries get one deadline, which the same 100 ms answer misses.
    await cache.setMany(entries(10, 'small'));
    expect(cache.stats().totals.droppedWrites).toBe(10);
    await cache.close();
  });

  it('rejects invalidations with E_STORE_TIMEOUT: a lost invalidation must not look like success', async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'r', operationTimeout: 30 });
    store.mode = 'hang';
    await expect(cache.delete('k')).rejects.toMatchObject({ code: 'E_STORE_TIMEOUT' });
    await expect(cache.invalidateTags(['t'])).rejects.toMatchObject({ code: 'E_STORE_TIMEOUT' });
    await expect(cache.deleteByPattern('*')).rejects.toSatisfy((error) => isCacheError(error));
    await cache.close();
  });
});

describe('the circuit breaker', () => {
  it('opens after consecutive failures, fails fast without touching the store, and closes once a probe succeeds', async () => {
    const store = faultyStore();
    // A 1 s cooldown: the 50 calls below must all see the breaker open; with 100 ms, a loaded
    // machine let the cooldown pass mid-loop and the probe touched the store.
    const cache = createCache({ store, prefix: 'r', breaker: { failureThreshold: 3, cooldown: 1_000 } });
    store.mode = 'fail';
    for (let index = 0; index < 3; index++) expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().store.breaker).toBe('open');

    const callsWhenOpen = store.totalCalls();
    for (let index = 0; index < 50; index++)
      expect(await cache.getOrSet('k', () => 'fallback')).toBe('fallback');
    expect(store.totalCalls()).toBe(callsWhenOpen);
    const health = await cache.health();
    expect(health.status).toBe('down');
    expect(health.store.reason).toMatch(/circuit open after: .*connection refused/);

    store.mode = 'ok';
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await cache.set('k', 'back');
    expect(cache.stats().store.breaker).toBe('closed');
    expect(await cache.get('k')).toBe('back');
    expect((await cache.health()).status).toBe('up');
    await cache.close();
  });

  it('re-opens when the probe fails', async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'r', breaker: { failureThreshold: 2, cooldown: 50 } });
    store.mode = 'fail';
    await cache.get('a');
    await cache.get('b');
    await new Promise((resolve) => setTimeout(resolve, 80));
    const before = store.totalCalls();
    await cache.get('probe');
    expect(store.totalCalls()).toBe(before + 1);
    expect(cache.stats().store.breaker).toBe('open');
    await cache.get('c');
    expect(store.totalCalls()).toBe(before + 1);
    await cache.close();
  });
});

describe('store errors', () => {
  it('wraps every store failure in a CacheError with the store named and the cause kept', async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'r' });
    store.mode = 'fail';
    const error = await cache.delete('k').catch((caught: unknown) => caught);
    expect(isCacheError(error, 'E_STORE_ERROR')).toBe(true);
    expect((error as Error).message).toMatch(/connection refused/);
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(Error);
    await cache.close();
  });

  it("survives an adapter's 'error' event (an unhandled one would crash the process)", async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'r' });
    expect(() =>
      (store as unknown as { emit(event: string, error: Error): void }).emit(
        'error',
        new Error('socket closed'),
      ),
    ).not.toThrow();
    await cache.close();
  });
});

describe('health()', () => {
  it('reports up with latency, degraded when slow, down when the store does not answer', async () => {
    const store = faultyStore();
    const cache = createCache({
      store,
      prefix: 'r',
      operationTimeout: 40,
      breaker: { failureThreshold: 100 },
    });
    const up = await cache.health();
    expect(up.status).toBe('up');
    expect(up.store.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(up.timestamp)).not.toBeNaN();

    const slowGet = store.get;
    store.get = (key: string) => new Promise((resolve) => setTimeout(() => resolve(slowGet(key)), 30));
    const degraded = await cache.health();
    expect(degraded.status).toBe('degraded');
    expect(degraded.store.reason).toMatch(/slow/);
    store.get = slowGet;

    store.mode = 'hang';
    const down = await cache.health();
    expect(down.status).toBe('down');
    expect(down.store.reason).toMatch(/did not answer within 40 ms/);
    await cache.close();
    expect((await cache.health()).status).toBe('down');
  });
});

describe('health checks', () => {
  it('adds registered components to health(), the worst status winning, and removes them', async () => {
    const cache = createCache({ store: new Map(), prefix: 'h', operationTimeout: 40 });
    let subscriber: { status: 'up' | 'degraded' | 'down'; reason?: string } = { status: 'up' };
    const remove = cache.addHealthCheck('cdc', () => ({ ...subscriber, processed: 3 }));
    expect(await cache.health()).toMatchObject({
      status: 'up',
      checks: { cdc: { status: 'up', processed: 3 } },
    });

    subscriber = { status: 'degraded', reason: 'lagging' };
    expect(await cache.health()).toMatchObject({
      status: 'degraded',
      store: { status: 'up' },
      checks: { cdc: { status: 'degraded', reason: 'lagging' } },
    });
    subscriber = { status: 'down', reason: 'stream unreachable' };
    expect((await cache.health()).status).toBe('down');

    expect(() => cache.addHealthCheck('cdc', () => ({ status: 'up' }))).toThrow(/already registered/);
    remove();
    expect(await cache.health()).toMatchObject({ status: 'up', checks: {} });
    await cache.close();
  });

  it('reports a check that throws or hangs as down instead of failing or hanging health()', async () => {
    const cache = createCache({ store: new Map(), prefix: 'h', operationTimeout: 40 });
    cache.addHealthCheck('throws', () => {
      throw new Error('boom');
    });
    cache.addHealthCheck('hangs', () => new Promise(() => {}));
    const health = await cache.health();
    expect(health.status).toBe('down');
    expect(health.checks.throws).toEqual({ status: 'down', reason: 'boom' });
    expect(health.checks.hangs?.reason).toMatch(/did not answer within 40 ms/);
    await cache.close();
  });
});

describe('creating a tag token', () => {
  it('makes entries fetched at once under a new tag agree on one token (no spurious misses)', async () => {
    // Not in-process as far as core knows, and without an atomic create: the token is read back.
    const cache = createCache({ store: faultyStore(), prefix: 't' });
    let fetches = 0;
    const keys = ['bundle:1', 'bundle:2', 'bundle:3', 'bundle:4', 'bundle:5', 'bundle:6'];
    const load = (key: string) =>
      cache.getOrSet(
        key,
        () => {
          fetches++;
          return key;
        },
        { tags: ['product:A'] },
      );
    await Promise.all(keys.map(load));
    expect(fetches).toBe(6);
    expect(await Promise.all(keys.map((key) => cache.get(key)))).toEqual(keys);
    await Promise.all(keys.map(load));
    expect(fetches).toBe(6);
    await cache.close();
  });
});

describe('store deadlines (one timer for every operation in flight)', () => {
  /** A store whose reads wait until the test answers them, in any order. */
  function gatedStore() {
    const waiting: Array<{ key: string; answer: (value: unknown) => void }> = [];
    const store = {
      opts: {},
      namespace: undefined,
      on: () => store,
      get: (key: string) => new Promise((answer) => waiting.push({ key, answer })),
      set: async () => true,
      delete: async () => true,
      clear: async () => {},
    };
    return { store: store as unknown as CacheStore, waiting };
  }

  it('gives each operation its own full deadline, whenever it started', async () => {
    const store = faultyStore();
    const cache = createCache({
      store,
      prefix: 'd',
      operationTimeout: 100,
      breaker: { failureThreshold: 1000 },
    });
    store.mode = 'hang';
    const elapsed = async (key: string) => {
      const started = performance.now();
      expect(await cache.get(key)).toBeUndefined();
      return performance.now() - started;
    };
    const first = elapsed('a');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const second = elapsed('b');
    // Had the first deadline expired every operation, the second would have waited only ~40 ms.
    expect(await first).toBeGreaterThanOrEqual(99);
    expect(await second).toBeGreaterThanOrEqual(99);
    expect(cache.stats().buckets.default?.storeErrors).toBe(2);
    await cache.close();
  });

  it('ignores an answer that comes after its deadline, and keeps timing the others', async () => {
    const { store, waiting } = gatedStore();
    const cache = createCache({
      store,
      prefix: 'd',
      operationTimeout: 50,
      breaker: { failureThreshold: 1000 },
    });
    const late = cache.get('late');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const answered = cache.get('answered');
    const hung = cache.get('hung');
    expect(await late).toBeUndefined(); // timed out
    // One still inside its deadline is answered, then the timed-out one, late.
    const envelope = (value: unknown) =>
      JSON.stringify({ v: 1, value, createdAt: 0, freshUntil: null, livesUntil: null });
    waiting.find((read) => read.key === 'd:answered')?.answer(envelope('in time'));
    expect(await answered).toBe('in time');
    waiting.find((read) => read.key === 'd:late')?.answer(envelope('too late'));
    // The last one never answers: it must still time out, after its own deadline.
    expect(await hung).toBeUndefined();
    expect(cache.stats().buckets.default).toMatchObject({ hits: 1, misses: 2, storeErrors: 2 });
    await cache.close();
  });
});

describe('a keyv adapter that breaks the promise contract', () => {
  function syncAdapter(get: (key: string) => unknown) {
    const map = new Map<string, unknown>();
    const store = {
      opts: {},
      namespace: undefined,
      on: () => store,
      get,
      set: async (key: string, value: unknown) => {
        map.set(key, value);
        return true;
      },
      delete: async () => true,
      clear: async () => {},
    };
    return { store: store as unknown as CacheStore, map };
  }

  it('is read through when get answers without a promise', async () => {
    const adapter = syncAdapter((key) => adapter.map.get(key));
    const cache = createCache({ store: adapter.store, prefix: 's' });
    await cache.set('k', { page: 1 });
    expect(await cache.get('k')).toEqual({ page: 1 });
    expect(await cache.get('absent')).toBeUndefined();
    await cache.close();
  });

  it('counts a get that throws synchronously as a store error, not a crash', async () => {
    const adapter = syncAdapter(() => {
      throw new Error('adapter bug');
    });
    const cache = createCache({ store: adapter.store, prefix: 's', breaker: { failureThreshold: 1000 } });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getOrSet('k', () => 'fetched')).toBe('fetched');
    expect(cache.stats().buckets.default?.storeErrors).toBe(2);
    await cache.close();
  });
});
