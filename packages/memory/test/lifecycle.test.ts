import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { memoryStore } from '@org/cache-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Timers that keep the event loop (and so the process) alive; unref'ed ones are not listed. */
function refedTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('memoryStore lifecycle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps expired entries out without anyone reading them', async () => {
    vi.useFakeTimers();
    const store = memoryStore({ checkInterval: 100 });
    await store.set('a', 1, 50);
    await store.set('b', 2);
    expect(store.size()).toBe(2);
    vi.advanceTimersByTime(100);
    expect(store.size()).toBe(1);
    await store.disconnect();
  });

  it('with checkInterval 0 starts no timer and keeps expired entries until read', async () => {
    vi.useFakeTimers();
    const store = memoryStore({ checkInterval: 0 });
    expect(vi.getTimerCount()).toBe(0);
    await store.set('a', 1, 50);
    vi.advanceTimersByTime(10_000);
    expect(store.size()).toBe(1);
    expect(await store.get('a')).toBeUndefined();
    expect(store.size()).toBe(0);
  });

  it('disconnect stops the sweep timer, and twice is harmless', async () => {
    vi.useFakeTimers();
    const store = memoryStore();
    expect(vi.getTimerCount()).toBe(1);
    await store.disconnect();
    expect(vi.getTimerCount()).toBe(0);
    await store.disconnect();
    await store.set('a', 1, 50);
    vi.advanceTimersByTime(60_000);
    expect(store.size()).toBe(1);
  });

  it('does not keep the process alive, with or without disconnect', async () => {
    const before = refedTimers();
    const store = memoryStore({ checkInterval: 10 });
    await store.set('a', 1, 5);
    // At most as many as before: the worker's own timers (vitest's) may end meanwhile, and on a
    // loaded machine they did; a sweep timer that held the process would add one.
    expect(refedTimers()).toBeLessThanOrEqual(before);
    // The sweep did run: the expired entry is gone without being read. Polled, not one fixed
    // pause: on a loaded machine the sweep's timer and the 5 ms expiry can fall after any pause.
    await vi.waitFor(() => expect(store.size()).toBe(0), { timeout: 5_000, interval: 10 });
    await store.disconnect();
    expect(refedTimers()).toBeLessThanOrEqual(before);
  });

  it('a store dropped without disconnect is garbage-collected with its entries', async () => {
    // CacheableMemory's own checkInterval timer would pin the store, and every entry, forever.
    const fill = async () => {
      const store = memoryStore({ checkInterval: 5 });
      const value = { payload: 'x'.repeat(1_000) };
      await store.set('a', value);
      return new WeakRef(value);
    };
    const entry = await fill();
    await pause(30);
    collectGarbage();
    await pause(30);
    collectGarbage();
    expect(entry.deref()).toBeUndefined();
  });
});
