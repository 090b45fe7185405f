import { memoryStore } from '@org/cache-memory';
import Keyv from 'keyv';
import { afterEach, describe, expect, it, vi } from 'vitest';

// What any Keyv user (cache-manager, cacheable, plain keyv) observes with this store plugged in.
describe('new Keyv({ store: memoryStore() })', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('round-trips values, falsy ones included', async () => {
    const keyv = new Keyv({ store: memoryStore() });
    const values: unknown[] = [0, '', false, null, 'bar', 42, { fizz: 'buzz' }, [1, 'two'], '"quoted\''];
    for (const [index, value] of values.entries()) expect(await keyv.set(`k${index}`, value)).toBe(true);
    for (const [index, value] of values.entries()) {
      expect(await keyv.get(`k${index}`)).toEqual(value);
      expect(await keyv.has(`k${index}`)).toBe(true);
    }
    expect(await keyv.get('missing')).toBeUndefined();
    expect(await keyv.has('missing')).toBe(false);
  });

  it('get, set, delete and has with many keys', async () => {
    const keyv = new Keyv({ store: memoryStore() });
    await keyv.setMany([
      { key: 'foo', value: 'bar' },
      { key: 'foo2', value: 0 },
    ]);
    expect(await keyv.get(['foo', 'foo1', 'foo2'])).toEqual(['bar', undefined, 0]);
    expect(await keyv.has(['foo', 'foo1'])).toEqual([true, false]);
    expect(await keyv.delete(['foo', 'foo1', 'foo2'])).toBe(true);
    expect(await keyv.delete(['foo', 'foo1', 'foo2'])).toBe(false);
    expect(await keyv.get(['foo', 'foo2'])).toEqual([undefined, undefined]);
  });

  it('delete resolves to true for a key that existed, false otherwise', async () => {
    const keyv = new Keyv({ store: memoryStore() });
    await keyv.set('foo', 'bar');
    expect(await keyv.delete('foo')).toBe(true);
    expect(await keyv.delete('foo')).toBe(false);
  });

  it('expires by the ttl Keyv passes, and ttl 0 means never', async () => {
    vi.useFakeTimers();
    const store = memoryStore();
    const keyv = new Keyv({ store });
    await keyv.set('short', 'a', 1_000);
    await keyv.set('never', 'b', 0);
    vi.advanceTimersByTime(1_001);
    expect(await keyv.get('short')).toBeUndefined();
    expect(await keyv.get('never')).toBe('b');
    // The store dropped the entry itself, not only Keyv's envelope check.
    expect(await store.has('keyv:short')).toBe(false);
  });

  it('keeps namespaces apart on one store, clear included', async () => {
    const store = memoryStore();
    const one = new Keyv({ store, namespace: 'keyv1' });
    await one.set('foo', 'one');
    await one.set('bar', 'one');
    const two = new Keyv({ store: memoryStore(), namespace: 'keyv2' });
    await two.set('foo', 'two');
    expect(await one.get('foo')).toBe('one');
    expect(await two.get('foo')).toBe('two');

    // Keyv sets `store.namespace`; a second Keyv on the same store shares the store's namespace.
    await store.set('keyv2:foo', 'raw-two');
    await one.clear();
    expect(await one.get('foo')).toBeUndefined();
    expect(await one.get('bar')).toBeUndefined();
    expect(await store.get('keyv2:foo')).toBe('raw-two');
  });

  it('exposes an async iterator through Keyv, per namespace, without expired entries', async () => {
    const store = memoryStore();
    const one = new Keyv({ store, namespace: 'keyv1' });
    await one.set('a', 'A');
    await one.set('b', 'B');
    await one.set('soon', 'x', 1);
    await store.set('keyv2:a', JSON.stringify({ value: 'other', expires: null }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(typeof one.iterator).toBe('function');
    const seen: Array<[string, unknown]> = [];
    for await (const [key, value] of one.iterator?.(undefined) ?? []) seen.push([key, value]);
    expect(seen).toEqual([
      ['a', 'A'],
      ['b', 'B'],
    ]);
  });

  it('clear without a namespace empties the store', async () => {
    const store = memoryStore();
    const keyv = new Keyv({ store, namespace: '' });
    await keyv.set('foo', 'bar');
    await store.set('other:key', 1);
    await keyv.clear();
    expect(store.size()).toBe(0);
  });

  it('disconnect resolves and leaves the data readable', async () => {
    const keyv = new Keyv({ store: memoryStore() });
    await keyv.set('foo', 'bar');
    await keyv.disconnect();
    await keyv.disconnect();
    expect(await keyv.get('foo')).toBe('bar');
  });
});
