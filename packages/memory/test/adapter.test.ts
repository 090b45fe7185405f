import { memoryStore } from '@org/cache-memory';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The raw keyv adapter contract, as cache-manager, cacheable or core would call it.
describe('memoryStore as a keyv store adapter', () => {
  it('reads back what was written, by reference', async () => {
    const store = memoryStore();
    const value = { id: 801, lines: [1, 2] };
    await store.set('orders:detail:801', value);
    expect(await store.get('orders:detail:801')).toBe(value);
    expect(await store.get('orders:detail:802')).toBeUndefined();
  });

  it('keeps falsy values distinct from a miss', async () => {
    const store = memoryStore();
    const falsy = [0, '', false, null] as const;
    for (const [index, value] of falsy.entries()) await store.set(`k${index}`, value);
    for (const [index, value] of falsy.entries()) {
      expect(await store.get(`k${index}`)).toBe(value);
      expect(await store.has(`k${index}`)).toBe(true);
    }
    expect(await store.hasMany(['k0', 'k3', 'nope'])).toEqual([true, true, false]);
  });

  it('set resolves to true and overwrites', async () => {
    const store = memoryStore();
    expect(await store.set('a', 1)).toBe(true);
    await store.set('a', 2);
    expect(await store.get('a')).toBe(2);
  });

  it('delete reports whether a live entry was removed', async () => {
    const store = memoryStore();
    await store.set('a', 1);
    expect(await store.delete('a')).toBe(true);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.delete('a')).toBe(false);
  });

  it('getMany, setMany and deleteMany work on several keys at once', async () => {
    const store = memoryStore();
    await store.setMany([
      { key: 'a', value: 'A' },
      { key: 'b', value: 0 },
    ]);
    expect(await store.getMany(['a', 'missing', 'b'])).toEqual(['A', undefined, 0]);
    expect(await store.deleteMany(['a', 'missing'])).toBe(true);
    expect(await store.getMany(['a', 'b'])).toEqual([undefined, 0]);
    expect(await store.deleteMany(['a', 'missing'])).toBe(false);
  });

  it('clear without a namespace removes everything', async () => {
    const store = memoryStore();
    await store.set('keyv1:a', 1);
    await store.set('plain', 2);
    await store.clear();
    expect(await store.hasMany(['keyv1:a', 'plain'])).toEqual([false, false]);
  });

  it('clear with a namespace removes only that namespace', async () => {
    const store = memoryStore();
    await store.set('keyv1:a', 1);
    await store.set('keyv1:b:c', 2);
    await store.set('keyv10:a', 3);
    await store.set('keyv2:a', 4);
    await store.set('plain', 5);
    store.namespace = 'keyv1';
    await store.clear();
    expect(await store.hasMany(['keyv1:a', 'keyv1:b:c'])).toEqual([false, false]);
    expect(await store.getMany(['keyv10:a', 'keyv2:a', 'plain'])).toEqual([3, 4, 5]);
  });

  it('iterator yields [key, value] for every live entry, or one namespace', async () => {
    const store = memoryStore();
    await store.set('ns1:a', 'A');
    await store.set('ns1:b', false);
    await store.set('ns2:a', 'other');
    await store.set('gone', 'x', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const all = new Map<unknown, unknown>();
    for await (const [key, value] of store.iterator()) all.set(key, value);
    expect(all).toEqual(
      new Map<unknown, unknown>([
        ['ns1:a', 'A'],
        ['ns1:b', false],
        ['ns2:a', 'other'],
      ]),
    );
    const ns1: unknown[] = [];
    for await (const pair of store.iterator('ns1')) ns1.push(pair);
    expect(ns1).toEqual([
      ['ns1:a', 'A'],
      ['ns1:b', false],
    ]);
  });

  it('iterator tolerates deletes while it runs and skips what was deleted', async () => {
    const store = memoryStore();
    for (const key of ['a', 'b', 'c', 'd']) await store.set(key, key);
    const seen: unknown[] = [];
    for await (const [key] of store.iterator()) {
      seen.push(key);
      if (key === 'a') await store.deleteMany(['c']);
      if (key === 'b') await store.clear();
    }
    expect(seen).toEqual(['a', 'b']);
  });

  it('has and delete do not count as a use for the LRU order', async () => {
    const store = memoryStore({ maxEntries: 2 });
    await store.set('old', 1);
    await store.set('new', 2);
    await store.has('old');
    await store.set('third', 3);
    expect(await store.get('old')).toBeUndefined();
    expect(await store.get('new')).toBe(2);
  });

  it('emits no error event for ordinary use and accepts listeners', async () => {
    const store = memoryStore();
    const errors: unknown[] = [];
    expect(store.on('error', (error) => errors.push(error))).toBe(store);
    await store.set('a', 1);
    await store.clear();
    expect(errors).toEqual([]);
  });
});

describe('memoryStore TTL', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires an entry after its TTL, not before', async () => {
    const store = memoryStore();
    await store.set('a', 'A', 1_000);
    vi.advanceTimersByTime(1_000);
    expect(await store.get('a')).toBe('A');
    vi.advanceTimersByTime(1);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.has('a')).toBe(false);
    expect(await store.delete('a')).toBe(false);
  });

  it('treats ttl 0, undefined and Infinity as no expiry (keyv semantics)', async () => {
    const store = memoryStore();
    await store.set('zero', 1, 0);
    await store.set('none', 2);
    await store.set('infinite', 3, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(365 * 24 * 3_600_000);
    expect(await store.getMany(['zero', 'none', 'infinite'])).toEqual([1, 2, 3]);
  });

  it('applies the default ttl option only when a write gives none', async () => {
    const store = memoryStore({ ttl: '1s' });
    await store.set('default', 1);
    await store.set('own', 2, 5_000);
    await store.set('forever', 3, 0);
    vi.advanceTimersByTime(1_001);
    expect(await store.getMany(['default', 'own', 'forever'])).toEqual([undefined, 2, 3]);
    vi.advanceTimersByTime(4_000);
    expect(await store.getMany(['default', 'own', 'forever'])).toEqual([undefined, undefined, 3]);
  });

  it('rounds a fractional TTL up to whole milliseconds', async () => {
    const store = memoryStore();
    await store.set('a', 'A', 0.2);
    expect(await store.get('a')).toBe('A');
    vi.advanceTimersByTime(1);
    expect(await store.get('a')).toBe('A');
    vi.advanceTimersByTime(1);
    expect(await store.get('a')).toBeUndefined();
  });

  it('treats a negative TTL as already expired, replacing the old value', async () => {
    const store = memoryStore();
    await store.set('a', 'old');
    expect(await store.set('a', 'new', -5)).toBe(true);
    expect(await store.get('a')).toBeUndefined();
    expect(store.size()).toBe(0);
  });

  it('rejects a NaN or non-number TTL and keeps the previous value', async () => {
    const store = memoryStore();
    await store.set('a', 'old');
    await expect(store.set('a', 'new', Number.NaN)).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
    await expect(store.set('a', 'new', '10s' as unknown as number)).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    await expect(
      store.setMany([
        { key: 'a', value: 'new' },
        { key: 'b', value: 'B', ttl: Number.NaN },
      ]),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
    expect(await store.getMany(['a', 'b'])).toEqual(['old', undefined]);
  });

  it('setMany gives each entry its own TTL', async () => {
    const store = memoryStore();
    await store.setMany([
      { key: 'short', value: 1, ttl: 100 },
      { key: 'long', value: 2, ttl: 10_000 },
      { key: 'none', value: 3 },
    ]);
    vi.advanceTimersByTime(101);
    expect(await store.getMany(['short', 'long', 'none'])).toEqual([undefined, 2, 3]);
  });
});

describe('memoryStore TTL on the real clock', () => {
  it('expires a 40 ms entry', async () => {
    const store = memoryStore();
    await store.set('a', 'A', 40);
    expect(await store.get('a')).toBe('A');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await store.get('a')).toBeUndefined();
  });
});
