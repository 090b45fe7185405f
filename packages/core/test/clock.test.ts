import { createCache, ttl } from '@org/cache-core';
import { coarseNow } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // blocks the event loop on purpose: no timer can run
  }
}

describe('coarseNow', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the wall clock, at most 1 ms behind once the event loop turns', async () => {
    await sleep(5);
    const before = Date.now();
    const reading = coarseNow();
    expect(reading).toBeGreaterThanOrEqual(before - 1);
    expect(reading).toBeLessThanOrEqual(Date.now());
  });

  it('follows time across event-loop turns', async () => {
    const first = coarseNow();
    await sleep(20);
    expect(coarseNow() - first).toBeGreaterThanOrEqual(19);
  });

  it('reads exactly while reads are sparse, even right after code that blocked the event loop', async () => {
    await sleep(2);
    const start = coarseNow();
    busyWait(5);
    expect(coarseNow() - start).toBeGreaterThanOrEqual(5);
  });

  it('shares a reading once reads are dense, for at most 1,024 reads in a synchronous stretch', () => {
    // Fake time: reads that really fall within one millisecond, however busy the machine.
    vi.useFakeTimers();
    let shared = coarseNow();
    for (let read = 0; read < 300; read++) shared = coarseNow();
    // Time moves with no timer run (code that blocked the event loop for 5 ms)...
    vi.setSystemTime(shared + 5);
    // ...so the first read after it may be as old as the block (the documented trade-off)...
    expect(coarseNow()).toBe(shared);
    // ...but a hot synchronous loop sees time move without waiting for a timer.
    let latest = shared;
    for (let read = 0; read < 1_024; read++) latest = coarseNow();
    expect(latest).toBe(shared + 5);
  });

  it('arms its drop timer only while reads are dense: a timer due soon makes every wait for I/O dearer', () => {
    vi.useFakeTimers();
    // A read every millisecond (a Redis-bound process): exact reads, no timer pending.
    for (let read = 0; read < 50; read++) {
      expect(coarseNow()).toBe(Date.now());
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1);
    }
    // Dense reads (fake time stands still): one shared reading, dropped by one timer.
    for (let read = 0; read < 1_000; read++) coarseNow();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(coarseNow()).toBe(Date.now());
  });

  it('follows fake timers as soon as they are installed, and as they advance', () => {
    coarseNow();
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    expect(coarseNow()).toBe(Date.parse('2030-01-01T00:00:00Z'));
    vi.advanceTimersByTime(60_000);
    expect(coarseNow()).toBe(Date.parse('2030-01-01T00:01:00Z'));
    vi.useRealTimers();
    expect(Math.abs(coarseNow() - Date.now())).toBeLessThanOrEqual(1);
  });
});

describe('the default clock', () => {
  it('expires entries by their TTL under fake timers, without an injected clock', async () => {
    vi.useFakeTimers();
    const cache = createCache({ store: new Map(), prefix: 'clock', strategy: ttl('1s') });
    try {
      await cache.set('k', 1);
      vi.advanceTimersByTime(999);
      expect(await cache.get('k')).toBe(1);
      vi.advanceTimersByTime(2);
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      vi.useRealTimers();
      await cache.close();
    }
  });
});
