import { createCache, isCacheError } from '@org/cache-core';
import { describe, expect, it } from 'vitest';
import { flush, leasingStore, structuredStore } from './support/stores.js';

/** What a promise did by now: its value, its error, or still pending. */
function observe<T>(promise: Promise<T>) {
  const seen: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = {
    state: 'pending',
  };
  promise.then(
    (value) => Object.assign(seen, { state: 'resolved', value }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error }),
  );
  return seen;
}

describe('close()', () => {
  it('settles a caller whose fetcher ignores its signal and never settles', async () => {
    const cache = createCache({ store: structuredStore(), prefix: 'close', fetchTimeout: 0 });
    const callers = [1, 2, 3].map(() => observe(cache.getOrSet('k', () => new Promise<never>(() => {}))));
    await flush();
    expect(callers.every((caller) => caller.state === 'pending')).toBe(true);
    await cache.close();
    await flush();
    for (const caller of callers) {
      expect(caller.state).toBe('rejected');
      expect(isCacheError(caller.error, 'E_CLOSED')).toBe(true);
    }
  });

  it("releases a caller waiting on another process's lease, and that caller never fetches", async () => {
    const store = leasingStore();
    const holder = createCache({ store, prefix: 'close', lease: { ttl: '10s', wait: '10s' } });
    const waiter = createCache({ store, prefix: 'close', lease: { ttl: '10s', wait: '10s' } });
    let release: (value: string) => void = () => {};
    const held = holder.getOrSet('k', () => new Promise<string>((resolve) => (release = resolve)));
    await flush();
    let waiterFetched = false;
    const waiting = observe(
      waiter.getOrSet('k', () => {
        waiterFetched = true;
        return 'from the waiter';
      }),
    );
    await flush();
    expect(waiting.state).toBe('pending');
    await waiter.close();
    await flush();
    expect(waiting.state).toBe('rejected');
    expect(isCacheError(waiting.error, 'E_CLOSED')).toBe(true);
    // The holder's fetch goes on and lands; the closed waiter never runs its fetcher.
    release('from the holder');
    expect(await held).toBe('from the holder');
    await flush();
    expect(waiterFetched).toBe(false);
    await holder.close();
  });

  it('releases the lease of a fetch it interrupts, so another process fetches at once', async () => {
    const store = leasingStore();
    const closing = createCache({ store, prefix: 'close', lease: { ttl: '10s', wait: '10s' } });
    const other = createCache({ store, prefix: 'close', lease: { ttl: '10s', wait: '10s' } });
    const interrupted = observe(closing.getOrSet('k', () => new Promise<string>(() => {})));
    await flush();
    expect(store.leases.size).toBe(1);
    await closing.close();
    expect(store.leases.size).toBe(0);
    expect(interrupted.state).toBe('rejected');
    // Without the release this would wait for the lease's 10 s.
    const started = performance.now();
    expect(await other.getOrSet('k', () => 'fetched by the other')).toBe('fetched by the other');
    // A generous bound: the point is "not the 10 s lease", on however loaded a machine.
    expect(performance.now() - started).toBeLessThan(5_000);
    await other.close();
  });

  it('adds no listener per fetch to a shared signal: no MaxListenersExceededWarning under load', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const cache = createCache({ store: structuredStore(), prefix: 'close' });
      const gates: Array<() => void> = [];
      const calls = Array.from({ length: 50 }, (_, index) =>
        cache.getOrSet(`k${index}`, () => new Promise<number>((resolve) => gates.push(() => resolve(index)))),
      );
      await flush();
      for (const open of gates) open();
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 50 }, (_, index) => index));
      const hanging = Array.from({ length: 50 }, (_, index) =>
        observe(cache.getOrSet(`h${index}`, () => new Promise<never>(() => {}))),
      );
      await flush();
      await cache.close();
      await flush();
      expect(hanging.every((caller) => caller.state === 'rejected')).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
