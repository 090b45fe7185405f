import { createCache, ttl } from '@org/cache-core';
import type { CacheStore } from '@org/cache-core/adapter';
import { describe, expect, it } from 'vitest';

// On a serializing store an untagged set writes the caller's value as text without copying it
// (isPlainJson), while a tagged set copies it first (toJsonValue). The two must never disagree on
// what is cached or on what is refused.

/** A serializing store (a keyv adapter's subset core uses) that keeps the text it was given. */
function textStore(): CacheStore & { written: Map<string, string> } {
  const written = new Map<string, string>();
  return {
    written,
    get: async (key: string) => written.get(key),
    set: async (key: string, value: unknown) => {
      if (typeof value !== 'string') throw new Error('this store takes text only');
      written.set(key, value);
      return true;
    },
    delete: async (key: string) => written.delete(key),
    clear: async () => written.clear(),
  } as unknown as CacheStore & { written: Map<string, string> };
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const accepted: Array<[string, () => unknown]> = [
  ['a page of orders', () => ({ id: 'a', orders: [{ n: 1, total: 9.99, tags: ['x'] }], next: null })],
  ['strings, booleans, -0', () => ({ s: 'é \u2028 "q"', t: true, f: false, z: -0 })],
  ['undefined properties', () => ({ kept: 1, dropped: undefined })],
  ['a Date', () => ({ at: new Date(Date.UTC(2026, 11, 5)) })],
  ['an invalid Date', () => ({ at: new Date(Number.NaN) })],
  ['a toJSON', () => ({ money: { toJSON: () => ({ cents: 999 }) } })],
  ['an own __proto__ key', () => JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')],
  ['a class instance', () => ({ point: new Point(1, 2) })],
  ['a null-prototype object', () => Object.assign(Object.create(null), { a: 1 })],
  ['nested arrays', () => [[1, [2, [3]]], []]],
  ['a top-level string', () => 'text'],
  ['a top-level number', () => 42],
];

const refused: Array<[string, () => unknown]> = [
  ['NaN', () => ({ n: Number.NaN })],
  ['Infinity in an array', () => [Number.POSITIVE_INFINITY]],
  ['a function', () => ({ f: () => 1 })],
  ['a BigInt', () => ({ b: 1n })],
  ['a Map', () => ({ m: new Map([[1, 2]]) })],
  [
    'a cycle',
    () => {
      const value: Record<string, unknown> = {};
      value.self = value;
      return value;
    },
  ],
  ['an undefined array slot', () => [1, undefined]],
  // A hole, made without a sparse literal.
  ['a hole', () => Object.assign(new Array(3), { 0: 1, 2: 3 })],
];

async function writtenValueText(value: unknown, tags: string[] | undefined): Promise<string> {
  const store = textStore();
  const cache = createCache({ store, prefix: 'w', strategy: ttl(60_000) });
  await cache.set('k', value, tags === undefined ? undefined : { tags });
  const text = store.written.get('w:k');
  await cache.close();
  if (text === undefined) throw new Error('nothing written');
  return JSON.stringify((JSON.parse(text) as { value: unknown }).value);
}

describe('the text an untagged set writes without a copy', () => {
  for (const [title, make] of accepted) {
    it(`is the copy's text: ${title}`, async () => {
      const direct = await writtenValueText(make(), undefined);
      const copied = await writtenValueText(make(), ['t']);
      expect(direct).toBe(copied);
      expect(direct).not.toContain('polluted');
    });
  }

  for (const [title, make] of refused) {
    it(`refuses what the copy refuses: ${title}`, async () => {
      for (const tags of [undefined, ['t']]) {
        const store = textStore();
        const cache = createCache({ store, prefix: 'w', strategy: ttl(60_000) });
        await expect(cache.set('k', make(), tags === undefined ? undefined : { tags })).rejects.toMatchObject(
          {
            code: 'E_INVALID_VALUE',
          },
        );
        expect(store.written.size).toBe(0);
        await cache.close();
      }
    });
  }
});
