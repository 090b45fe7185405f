import {
  type Cache,
  type CacheOptions,
  createCache,
  DEFAULT_SAFETY_TTL_MS,
  eventDriven,
  hybrid,
  isCacheError,
  parseDuration,
  ttl,
} from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock, thrownBy } from './support/helpers.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function setup(options: Omit<CacheOptions, 'store' | 'clock'> = {}) {
  const map = new Map<string, unknown>();
  const clock = manualClock();
  const cache = createCache({ store: map, prefix: 'st', clock, ...options });
  open.push(cache);
  return { map, clock, cache };
}

describe('ttl()', () => {
  it('expires an entry 90s after it was written, by the injected clock, though the Map keeps it', async () => {
    const { map, clock, cache } = setup({ strategy: ttl('90s') });
    await cache.set('orders:1', { id: 1 });
    clock.advance(90 * SECOND - 1);
    expect(await cache.get('orders:1')).toEqual({ id: 1 });
    clock.advance(1);
    expect(await cache.get('orders:1')).toBeUndefined();
    expect(await cache.has('orders:1')).toBe(false);
    expect(map.has('st:orders:1')).toBe(true);
  });

  it('refetches once an entry written by getOrSet has expired', async () => {
    const { clock, cache } = setup({ strategy: ttl('90s') });
    let calls = 0;
    const fetcher = () => ++calls;
    expect(await cache.getOrSet('k', fetcher)).toBe(1);
    clock.advance(89 * SECOND);
    expect(await cache.getOrSet('k', fetcher)).toBe(1);
    clock.advance(2 * SECOND);
    expect(await cache.getOrSet('k', fetcher)).toBe(2);
    expect(calls).toBe(2);
  });

  it('defaults to 5 minutes when no strategy is given', async () => {
    const { clock, cache } = setup();
    await cache.set('k', 1);
    clock.advance(5 * MINUTE - 1);
    expect(await cache.get('k')).toBe(1);
    clock.advance(1);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('takes a per-call ttl that overrides the strategy, for set and getOrSet', async () => {
    const { clock, cache } = setup({ strategy: ttl('5m') });
    await cache.set('short', 'a', { ttl: '10s' });
    await cache.set('long', 'b', { ttl: '1h' });
    await cache.getOrSet('fetched', () => 'c', { ttl: 2_000 });
    await cache.set('default', 'd');
    clock.advance(2 * SECOND);
    expect(await cache.get('fetched')).toBeUndefined();
    expect(await cache.get('short')).toBe('a');
    clock.advance(8 * SECOND);
    expect(await cache.get('short')).toBeUndefined();
    clock.advance(5 * MINUTE);
    expect(await cache.get('default')).toBeUndefined();
    expect(await cache.get('long')).toBe('b');
    clock.advance(HOUR);
    expect(await cache.get('long')).toBeUndefined();
  });

  it('rejects a per-call ttl that is zero, negative or not a duration', async () => {
    const { cache } = setup();
    for (const bad of [0, -1, 'soon', '0s', Number.NaN]) {
      await expect(cache.set('k', 1, { ttl: bad as never })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      });
      await expect(cache.getOrSet('k', () => 1, { ttl: bad as never })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      });
    }
    expect(await cache.has('k')).toBe(false);
  });
});

describe('eventDriven()', () => {
  it('keeps entries 12 hours by default (the safety TTL)', async () => {
    expect(DEFAULT_SAFETY_TTL_MS).toBe(12 * HOUR);
    expect(eventDriven().ttlMs).toBe(12 * HOUR);
    const { clock, cache } = setup({ strategy: eventDriven() });
    await cache.set('k', 'v');
    clock.advance(12 * HOUR - 1);
    expect(await cache.get('k')).toBe('v');
    clock.advance(1);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('takes a safety TTL', async () => {
    const { clock, cache } = setup({ strategy: eventDriven({ safetyTtl: '1d' }) });
    await cache.set('k', 'v');
    clock.advance(DAY - 1);
    expect(await cache.get('k')).toBe('v');
    clock.advance(1);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('never expires with safetyTtl 0, but an event (invalidation) still removes the entry', async () => {
    const { clock, cache } = setup({ strategy: eventDriven({ safetyTtl: 0 }) });
    expect(eventDriven({ safetyTtl: 0 }).ttlMs).toBeNull();
    await cache.set('k', 'v', { tags: ['account:1'] });
    await cache.set('other', 'w');
    clock.advance(10 * 365 * DAY);
    expect(await cache.get('k')).toBe('v');
    expect(await cache.get('other')).toBe('w');
    await cache.invalidateTags(['account:1']);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('other')).toBe('w');
  });
});

describe('hybrid()', () => {
  it('expires after its short ttl, and events invalidate earlier', async () => {
    const { clock, cache } = setup({ strategy: hybrid({ ttl: '60s' }) });
    expect(hybrid({ ttl: '60s' })).toEqual({ kind: 'hybrid', ttlMs: 60 * SECOND });
    await cache.set('a', 1);
    await cache.set('b', 2, { tags: ['product:A'] });
    clock.advance(30 * SECOND);
    await cache.invalidateTags(['product:A']);
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('b')).toBeUndefined();
    clock.advance(30 * SECOND);
    expect(await cache.get('a')).toBeUndefined();
  });

  it('needs a positive ttl', () => {
    for (const options of [undefined, null, {}, { ttl: 0 }, { ttl: 'x' }]) {
      const error = thrownBy(() => hybrid(options as never));
      expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    }
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90 * SECOND],
    ['10m', 10 * MINUTE],
    ['12h', 12 * HOUR],
    ['1d', DAY],
    ['1.5s', 1_500],
    ['10 m', 10 * MINUTE],
    ['0s', 0],
    [250, 250],
    [0, 0],
    [1.4, 1],
  ] as const)('parses %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it('gives strategies the parsed durations', () => {
    expect(ttl('90s').ttlMs).toBe(90 * SECOND);
    expect(ttl(1_234).ttlMs).toBe(1_234);
    expect(eventDriven({ safetyTtl: '12h' }).ttlMs).toBe(12 * HOUR);
    expect(hybrid({ ttl: '500ms' }).ttlMs).toBe(500);
  });

  it.each([
    '',
    '10',
    '10x',
    '-1s',
    's',
    '1 day',
    '1e3ms',
    'Infinity',
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    null,
    undefined,
    {},
  ])('refuses %j with E_INVALID_OPTION', (input) => {
    const error = thrownBy(() => parseDuration(input as never, 'myOption'));
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain('myOption');
  });

  it('refuses a zero or invalid strategy duration synchronously', () => {
    for (const make of [
      () => ttl(0),
      () => ttl('0ms'),
      () => ttl('forever' as never),
      () => ttl(-5),
      () => eventDriven({ safetyTtl: -1 }),
      () => eventDriven({ safetyTtl: 'never' as never }),
    ]) {
      const error = thrownBy(make);
      expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    }
  });
});

describe('grace window', () => {
  it('serves an expired entry inside its grace window when the fetcher throws, and counts a stale hit', async () => {
    const { clock, cache } = setup({ strategy: ttl('90s'), grace: '1m' });
    await cache.getOrSet('orders:1', () => ({ version: 1 }));
    clock.advance(90 * SECOND + 30 * SECOND);
    // Past freshness, a plain read is a miss.
    expect(await cache.get('orders:1')).toBeUndefined();
    let seenStale: unknown;
    const value = await cache.getOrSet('orders:1', (context) => {
      seenStale = context.staleValue;
      throw new Error('source is down');
    });
    expect(value).toEqual({ version: 1 });
    expect(seenStale).toEqual({ version: 1 });
    const stats = cache.stats().buckets.default;
    expect(stats?.staleHits).toBe(1);
    expect(stats?.fetchErrors).toBe(1);
  });

  it('refreshes an entry inside its grace window when the fetcher succeeds', async () => {
    const { clock, cache } = setup({ strategy: ttl('90s'), grace: '1m' });
    await cache.getOrSet('orders:1', () => ({ version: 1 }));
    clock.advance(100 * SECOND);
    expect(await cache.getOrSet('orders:1', () => ({ version: 2 }))).toEqual({ version: 2 });
    expect(await cache.get('orders:1')).toEqual({ version: 2 });
    expect(cache.stats().buckets.default?.staleHits).toBe(0);
    // The refreshed entry has a full new fresh window.
    clock.advance(89 * SECOND);
    expect(await cache.get('orders:1')).toEqual({ version: 2 });
  });

  it('lets the fetcher error through beyond the grace window', async () => {
    const { clock, cache } = setup({ strategy: ttl('90s'), grace: '1m' });
    await cache.getOrSet('orders:1', () => ({ version: 1 }));
    clock.advance(90 * SECOND + MINUTE);
    await expect(
      cache.getOrSet('orders:1', () => {
        throw new Error('source is down');
      }),
    ).rejects.toThrow('source is down');
    expect(cache.stats().buckets.default?.staleHits).toBe(0);
  });

  it('lets the fetcher error through with no grace configured', async () => {
    const { clock, cache } = setup({ strategy: ttl('90s') });
    await cache.getOrSet('orders:1', () => 1);
    clock.advance(90 * SECOND);
    await expect(
      cache.getOrSet('orders:1', () => {
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
  });

  it('takes a per-call grace', async () => {
    const { clock, cache } = setup({ strategy: ttl('10s') });
    await cache.getOrSet('k', () => 'old', { grace: '1m' });
    clock.advance(30 * SECOND);
    const failing = () => {
      throw new Error('down');
    };
    expect(await cache.getOrSet('k', failing)).toBe('old');
    clock.advance(MINUTE);
    await expect(cache.getOrSet('k', failing)).rejects.toThrow('down');
  });
});

describe('createCache option validation', () => {
  const store = () => new Map<string, unknown>();
  const invalid: Array<[string, unknown]> = [
    ['no options', undefined],
    ['a missing store', {}],
    ['a store that is not an object', { store: 42 }],
    ['an object that is not a store', { store: { nope: true } }],
    ['an empty prefix', { store: store(), prefix: '' }],
    ['a prefix with an empty segment', { store: store(), prefix: 'a::b' }],
    ['a prefix ending with a colon', { store: store(), prefix: 'bff:' }],
    ['a prefix with a control character', { store: store(), prefix: 'bff\n' }],
    ['a prefix that is not a string', { store: store(), prefix: 42 }],
    ['an unknown option', { store: store(), ttl: '5m' }],
    ['a strategy that is not one', { store: store(), strategy: { kind: 'lru', ttlMs: 1 } }],
    ['a clock without now()', { store: store(), clock: {} }],
    ['a negative operationTimeout', { store: store(), operationTimeout: -1 }],
    ['a zero operationTimeout', { store: store(), operationTimeout: 0 }],
    ['an unparseable operationTimeout', { store: store(), operationTimeout: 'soon' }],
    ['a negative fetchTimeout', { store: store(), fetchTimeout: -5 }],
    ['an unparseable grace', { store: store(), grace: 'a while' }],
    ['a breaker threshold of 0', { store: store(), breaker: { failureThreshold: 0 } }],
    ['an unknown breaker option', { store: store(), breaker: { retries: 3 } }],
    ['a negative tagTtl', { store: store(), tagTtl: -1 }],
    ['a codec without decode()', { store: store(), codec: { name: 'x', encode: () => '' } }],
  ];

  it.each(invalid)('throws E_INVALID_OPTION synchronously for %s', (_, options) => {
    const error = thrownBy(() => createCache(options as never));
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error).toMatchObject({ name: 'CacheError' });
  });

  it('names the offending option in the message', () => {
    expect(() => createCache({ store: store(), ttl: '5m' } as never)).toThrow(/ttl/);
    expect(() => createCache({ store: store(), operationTimeout: -1 })).toThrow(/operationTimeout/);
    expect(() => createCache({ store: store(), prefix: 'a::b' })).toThrow(/prefix/);
  });

  it('accepts valid options', () => {
    const cache = createCache({
      store: store(),
      prefix: 'bff',
      strategy: eventDriven({ safetyTtl: '12h' }),
      clock: { now: () => 0 },
      grace: '1m',
      operationTimeout: '100ms',
      fetchTimeout: 0,
      breaker: { failureThreshold: 3, cooldown: '2s' },
      tagTtl: 0,
      maxKeyBytes: 512,
    });
    open.push(cache);
    expect(cache.prefix).toBe('bff');
  });
});
