import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { faultyStore, structuredStore } from './support/stores.js';

const stores = {
  map: () => new Map<string, unknown>(),
  structured: () => structuredStore(),
};

describe.each(Object.entries(stores))('dependency tracking on a %s store', (_, makeStore) => {
  let cache: Cache;
  afterEach(async () => {
    await cache?.close();
  });

  it('misses every one of 600 dependents after one tag invalidation and keeps unrelated entries', async () => {
    cache = createCache({ store: makeStore(), prefix: 'bff' });
    for (let index = 0; index < 600; index++) {
      await cache.set(`catalog:product:${index}`, { index }, { tags: ['product:A', `item:${index}`] });
    }
    await cache.set('catalog:product:other', { other: true }, { tags: ['product:B'] });
    await cache.set('orders:detail:1', 'untagged');

    await cache.invalidateTags(['product:A']);

    const after = await cache.getMany(Array.from({ length: 600 }, (_, index) => `catalog:product:${index}`));
    expect(after.every((value) => value === undefined)).toBe(true);
    expect(await cache.get('catalog:product:other')).toEqual({ other: true });
    expect(await cache.get('orders:detail:1')).toBe('untagged');
  });

  it('invalidates tags named like Object.prototype members, __proto__ included', async () => {
    cache = createCache({ store: makeStore(), prefix: 'bff' });
    const tags = ['__proto__', 'constructor', 'toString'];
    for (const tag of tags) await cache.set(`k:${tag}`, tag, { tags: [tag] });
    expect(await cache.getMany(tags.map((tag) => `k:${tag}`))).toEqual(tags);
    for (const tag of tags) {
      await cache.invalidateTags([tag]);
      expect(await cache.get(`k:${tag}`)).toBeUndefined();
    }
  });

  it('derives tags from the value', async () => {
    cache = createCache({ store: makeStore(), prefix: 'bff' });
    const order = { id: 801, accountId: '001' };
    await cache.getOrSet('orders:detail:801', () => order, {
      tags: (value) => [`account:${value.accountId}`],
    });
    expect(await cache.get('orders:detail:801')).toEqual(order);
    await cache.invalidateTags(['account:002']);
    expect(await cache.get('orders:detail:801')).toEqual(order);
    await cache.invalidateTags(['account:001']);
    expect(await cache.get('orders:detail:801')).toBeUndefined();
  });

  it('applies tags given per entry in setMany', async () => {
    cache = createCache({ store: makeStore(), prefix: 'bff' });
    await cache.setMany([
      { key: 'a', value: 1, tags: ['x'] },
      { key: 'b', value: 2, tags: ['y'] },
      { key: 'c', value: 3 },
    ]);
    await cache.invalidateTags(['x']);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, 2, 3]);
  });

  it('re-caches a dependent after invalidation, and the new entry survives until the next one', async () => {
    cache = createCache({ store: makeStore(), prefix: 'bff' });
    let version = 0;
    const load = () => cache.getOrSet('catalog:list', () => ++version, { tags: ['product:A'] });
    expect(await load()).toBe(1);
    await cache.invalidateTags(['product:A']);
    expect(await load()).toBe(2);
    expect(await load()).toBe(2);
    await cache.invalidateTags(['product:A']);
    expect(await load()).toBe(3);
  });

  it('keeps tag namespaces of caches with different prefixes apart', async () => {
    const store = makeStore();
    cache = createCache({ store, prefix: 'tenant1' });
    const other = createCache({ store, prefix: 'tenant2' });
    await cache.set('k', 'one', { tags: ['shared-name'] });
    await other.set('k', 'two', { tags: ['shared-name'] });
    await other.invalidateTags(['shared-name']);
    expect(await cache.get('k')).toBe('one');
    expect(await other.get('k')).toBeUndefined();
    await other.close();
  });

  it('refuses invalid tags before any write', async () => {
    cache = createCache({ store: makeStore(), prefix: 'bff' });
    for (const tags of [[''], ['bad\u0007tag'], [42], 'not-an-array']) {
      const error = await cache.set('k', 1, { tags: tags as string[] }).catch((caught: unknown) => caught);
      expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      await expect(cache.invalidateTags(tags as string[])).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      });
    }
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('tag versions', () => {
  it('invalidate any number of dependents in one store round trip', async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'bff' });
    for (let index = 0; index < 1000; index++) await cache.set(`k:${index}`, index, { tags: ['big'] });
    const callsBefore = store.totalCalls();
    await cache.invalidateTags(['big']);
    expect(store.totalCalls() - callsBefore).toBe(1);
    await cache.close();
  });

  it('are looked up once for all the entries a getMany reads, not once per tagged entry', async () => {
    const store = faultyStore();
    const cache = createCache({ store, prefix: 'bff' });
    const keys = Array.from({ length: 50 }, (_, index) => `k:${index}`);
    for (const [index, key] of keys.entries())
      await cache.set(key, index, { tags: [`t:${index}`, 'shared'] });
    const callsBefore = store.totalCalls();
    expect(await cache.getMany(keys)).toEqual(keys.map((_, index) => index));
    // One read of the entries, one read of their 51 tag versions.
    expect(store.totalCalls() - callsBefore).toBe(2);
    await cache.invalidateTags(['t:7']);
    const after = await cache.getMany(keys);
    expect(after[7]).toBeUndefined();
    expect(after.filter((value) => value !== undefined)).toHaveLength(49);
    await cache.close();
  });

  it('err towards a miss when a tag token disappears from the store (eviction, expiry)', async () => {
    const store = new Map<string, unknown>();
    const cache = createCache({ store, prefix: 'bff' });
    await cache.set('k', 'v', { tags: ['t'] });
    const tokenKey = [...store.keys()].find((key) => key.startsWith('bff::tag:'));
    expect(tokenKey).toBe('bff::tag:t');
    store.delete(tokenKey as string);
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });

  it('count garbage where a token should be as a corrupt entry, and replace it on the next write', async () => {
    const store = new Map<string, unknown>();
    const cache = createCache({ store, prefix: 'bff' });
    await cache.set('k', 'v', { tags: ['t'] });
    store.set('bff::tag:t', 'not a token');
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getMany(['k'])).toEqual([undefined]);
    expect(cache.stats().totals.corruptEntries).toBe(2);
    await cache.set('k2', 'v2', { tags: ['t'] });
    expect(store.get('bff::tag:t')).not.toBe('not a token');
    expect(await cache.get('k2')).toBe('v2');
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });

  it('are opaque tokens, not timestamps: a writer with a wildly wrong clock cannot resurrect entries', async () => {
    const store = new Map<string, unknown>();
    const ahead = createCache({ store, prefix: 'bff', clock: { now: () => Date.now() + 3_600_000 } });
    const behind = createCache({ store, prefix: 'bff', clock: { now: () => Date.now() - 3_600_000 } });
    await ahead.set('k', 'written by the fast clock', { tags: ['t'], ttl: '3h' });
    await behind.invalidateTags(['t']);
    expect(await ahead.get('k')).toBeUndefined();
    expect(await behind.get('k')).toBeUndefined();
    await ahead.close();
    await behind.close();
  });
});
