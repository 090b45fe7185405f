import { createClient } from '@keyv/redis';
import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { measure, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// close() on Redis: every call of the cache settles, its leases are gone (other processes do not
// wait out lease.wait), and nothing it started runs on afterwards. Two caches on two stores (two
// connections) stand for two processes: a lease is a Redis key, whoever holds the connection.
const raw = createClient({ url: sharedRedisUrl() });
beforeAll(() => raw.connect());
afterAll(() => raw.close());

function openCache(prefix: string): Cache {
  return createCache({
    store: redisStore({ url: sharedRedisUrl() }),
    prefix,
    lease: { ttl: '10s', wait: '10s' },
    fetchTimeout: 0,
  });
}

async function leaseKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of raw.scanIterator({ MATCH: `${prefix}::lease:*` })) keys.push(...batch);
  return keys;
}

function settledState(promise: Promise<unknown>) {
  const seen = { settled: false, error: undefined as unknown };
  promise.then(
    () => {
      seen.settled = true;
    },
    (error: unknown) => {
      seen.settled = true;
      seen.error = error;
    },
  );
  return seen;
}

describe('close() on Redis', () => {
  it('leaves no lease behind: another process fetches at once instead of waiting lease.wait', async () => {
    const prefix = uniquePrefix('close-lease');
    const closing = openCache(prefix);
    const other = openCache(prefix);
    let fetcherSignal: AbortSignal | undefined;
    const interrupted = settledState(
      closing.getOrSet('k', ({ signal }) => {
        fetcherSignal = signal;
        return new Promise<string>(() => {}); // ignores its signal, never settles
      }),
    );
    await expect.poll(() => leaseKeys(prefix), { timeout: 10_000 }).toHaveLength(1);
    await closing.close();
    expect(interrupted.settled).toBe(true);
    expect(isCacheError(interrupted.error, 'E_CLOSED')).toBe(true);
    expect(fetcherSignal?.aborted).toBe(true);
    expect(await leaseKeys(prefix)).toEqual([]);
    const started = performance.now();
    expect(await other.getOrSet('k', () => 'fetched by the other')).toBe('fetched by the other');
    // Not the 10 s lease.wait; generous for a loaded machine.
    expect(performance.now() - started).toBeLessThan(5_000);
    await other.close();
  });

  it("releases callers waiting on another process's lease; their fetchers never run", async () => {
    const prefix = uniquePrefix('close-wait');
    const holder = openCache(prefix);
    const waiter = openCache(prefix);
    let finish: (value: string) => void = () => {};
    const held = holder.getOrSet('k', () => new Promise<string>((resolve) => (finish = resolve)));
    await expect.poll(() => leaseKeys(prefix), { timeout: 10_000 }).toHaveLength(1);
    let waiterFetches = 0;
    const waiting = Array.from({ length: 20 }, () =>
      settledState(
        waiter.getOrSet('k', () => {
          waiterFetches++;
          return 'from the waiter';
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(waiting.some((caller) => caller.settled)).toBe(false);
    await waiter.close();
    expect(waiting.every((caller) => caller.settled && isCacheError(caller.error, 'E_CLOSED'))).toBe(true);
    finish('from the holder');
    expect(await held).toBe('from the holder');
    expect(waiterFetches).toBe(0);
    await holder.close();
  });

  it('has settled every one of 1,000 in-flight calls when it resolves', async () => {
    const prefix = uniquePrefix('close-load');
    const holder = openCache(prefix);
    const cache = openCache(prefix);
    await cache.set('warm', 'value');
    // Another process holds the lease of `held`: this cache's callers of it wait on Redis.
    void holder.getOrSet('held', () => new Promise<string>(() => {})).catch(() => {});
    await expect.poll(() => leaseKeys(prefix), { timeout: 10_000 }).toHaveLength(1);
    const calls: Array<Promise<unknown>> = [];
    for (let index = 0; index < 250; index++) {
      calls.push(cache.get('warm'));
      calls.push(cache.set(`s:${index}`, index));
      calls.push(cache.getOrSet(`slow:${index}`, () => new Promise<never>(() => {})));
      calls.push(cache.getOrSet('held', () => 'never'));
    }
    const states = calls.map(settledState);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    await cache.close();
    const settleMs = performance.now() - started;
    await Promise.resolve();
    expect(states.filter((state) => !state.settled)).toHaveLength(0);
    const errors = states.filter((state) => state.error !== undefined);
    expect(errors.every((state) => isCacheError(state.error, 'E_CLOSED'))).toBe(true);
    expect(await leaseKeys(prefix)).toHaveLength(1); // the holder's, not this cache's
    await holder.close();
    expect(await leaseKeys(prefix)).toEqual([]);
    measure(`close() with 1,000 calls in flight on Redis: ${settleMs.toFixed(1)} ms`);
  });
});
