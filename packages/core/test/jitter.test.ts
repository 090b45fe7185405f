import { type Cache, createCache, eventDriven, hybrid, ttl } from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from './support/helpers.js';

/** `jitter` spreads each stored fresh window by up to +-jitter, so entries written together expire apart. */
const caches: Cache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

const TEN_MINUTES = 600_000;

/** The fresh windows the envelopes in `map` were written with. */
function freshWindows(map: Map<string, unknown>): number[] {
  return [...map.values()].map((raw) => {
    const envelope = JSON.parse(raw as string) as { createdAt: number; freshUntil: number };
    return envelope.freshUntil - envelope.createdAt;
  });
}

describe('jitter', () => {
  it('ttl(d, { jitter: 0.1 }): 200 entries written together get lifetimes spread across +-10%', async () => {
    const map = new Map<string, unknown>();
    const clock = manualClock();
    const cache = createCache({ store: map, prefix: 'j', clock, strategy: ttl('10m', { jitter: 0.1 }) });
    caches.push(cache);
    await Promise.all(Array.from({ length: 200 }, (_, index) => cache.set(`k${index}`, index)));
    const windows = freshWindows(map);
    expect(Math.min(...windows)).toBeGreaterThanOrEqual(0.9 * TEN_MINUTES);
    expect(Math.max(...windows)).toBeLessThanOrEqual(1.1 * TEN_MINUTES);
    // Spread, not clumped: with 200 uniform draws each outer fifth of the band is all but certain to
    // be hit (the chance of missing one is 0.8^200, about 4e-20).
    expect(Math.min(...windows)).toBeLessThan(0.92 * TEN_MINUTES);
    expect(Math.max(...windows)).toBeGreaterThan(1.08 * TEN_MINUTES);

    // What a user observes: nothing expires before 9 minutes, everything by 11, some in between.
    clock.advance(0.9 * TEN_MINUTES - 1);
    const early = await cache.getMany(Array.from({ length: 200 }, (_, index) => `k${index}`));
    expect(early.filter((value) => value === undefined)).toHaveLength(0);
    clock.advance(0.1 * TEN_MINUTES);
    const middle = await cache.getMany(Array.from({ length: 200 }, (_, index) => `k${index}`));
    const expired = middle.filter((value) => value === undefined).length;
    expect(expired).toBeGreaterThan(20);
    expect(expired).toBeLessThan(180);
    clock.advance(0.1 * TEN_MINUTES + 1);
    const late = await cache.getMany(Array.from({ length: 200 }, (_, index) => `k${index}`));
    expect(late.filter((value) => value === undefined)).toHaveLength(200);
  });

  it('a call can set or cancel jitter; getOrSet writes are jittered too', async () => {
    const map = new Map<string, unknown>();
    const cache = createCache({ store: map, prefix: 'j', clock: manualClock(), strategy: ttl('10m') });
    caches.push(cache);
    await cache.set('exact', 1);
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        cache.getOrSet(`fetched${index}`, () => index, { jitter: 0.5 }),
      ),
    );
    const windows = freshWindows(map);
    expect(windows[0]).toBe(TEN_MINUTES);
    const jittered = windows.slice(1);
    expect(Math.min(...jittered)).toBeGreaterThanOrEqual(0.5 * TEN_MINUTES);
    expect(Math.max(...jittered)).toBeLessThanOrEqual(1.5 * TEN_MINUTES);
    expect(new Set(jittered).size).toBeGreaterThan(40);

    const map2 = new Map<string, unknown>();
    const noJitter = createCache({ store: map2, prefix: 'j3', strategy: ttl('10m', { jitter: 0.2 }) });
    caches.push(noJitter);
    await noJitter.set('k', 1, { jitter: 0 });
    expect(freshWindows(map2)).toEqual([TEN_MINUTES]);
  });

  it('eventDriven and hybrid take jitter; an entry fresh until invalidated has nothing to spread', async () => {
    expect(eventDriven({ safetyTtl: '12h', jitter: 0.05 })).toMatchObject({
      kind: 'eventDriven',
      jitter: 0.05,
    });
    expect(hybrid({ ttl: '60s', jitter: 0.2 })).toMatchObject({ kind: 'hybrid', ttlMs: 60_000, jitter: 0.2 });
    expect(ttl('1m')).toEqual({ kind: 'ttl', ttlMs: 60_000 });
    const map = new Map<string, unknown>();
    const cache = createCache({
      store: map,
      prefix: 'j',
      strategy: eventDriven({ safetyTtl: 0, jitter: 0.5 }),
    });
    caches.push(cache);
    await cache.set('k', 1);
    expect(JSON.parse(map.get('j:k') as string)).toMatchObject({ freshUntil: null, livesUntil: null });
  });

  it.each([-0.1, 1, 2, Number.NaN, Number.POSITIVE_INFINITY, '0.1', null])(
    'refuses jitter %s',
    async (jitter) => {
      expect(() => ttl('1m', { jitter: jitter as never })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringMatching(/jitter/) }),
      );
      expect(() => hybrid({ ttl: '1m', jitter: jitter as never })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
      expect(() => eventDriven({ jitter: jitter as never })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
      const cache = createCache({ store: new Map(), prefix: 'j' });
      caches.push(cache);
      await expect(cache.set('k', 1, { jitter: jitter as never })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      });
      await expect(cache.getOrSet('k', () => 1, { jitter: jitter as never })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      });
    },
  );
});
