import type { CacheStore } from '@org/cache-core';
import { compileGlob, type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { type StoreContractCapabilities, storeContractSuite } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import { collectSuite } from './support/collect-suite.js';
import { mapAdapter } from './support/map-adapter.js';

const allFlags: StoreContractCapabilities = {
  ttl: true,
  scan: true,
  memoryUsage: true,
  syncRead: true,
  structuredValues: true,
};

type Store = ReturnType<typeof mapAdapter>;

/** Runs the whole suite against a store and returns the names of the tests that failed. */
async function failingTests(createStore: () => CacheStore): Promise<string[]> {
  const tests = collectSuite((runner) =>
    storeContractSuite(runner, { name: 'subject', createStore, capabilities: allFlags }),
  );
  const failed: string[] = [];
  for (const test of tests) await test.run().catch(() => failed.push(test.name));
  return failed;
}

function broken(change: (store: Store, capabilities: StoreCapabilities) => unknown) {
  return () => {
    const store = mapAdapter('full');
    const capabilities = store[storeCapabilities] as StoreCapabilities;
    store[storeCapabilities as never] = {
      ...capabilities,
      ...(change(store, capabilities) as Partial<StoreCapabilities> | undefined),
    } as never;
    return store;
  };
}

const scanWith = (
  toMatcher: (pattern: string) => { test(key: string): boolean },
  store: Store,
): StoreCapabilities['scan'] =>
  async function* scan(pattern) {
    yield [...store.entries.keys()].filter((key) => toMatcher(pattern).test(key));
  };

const cases: Array<[string, () => CacheStore, string[]]> = [
  [
    'loses empty strings',
    broken((store) => {
      const get = store.get;
      store.get = async (key: string) => ((await get(key)) === '' ? undefined : get(key)) as never;
    }),
    ['store adapter contract > set then get gives back the value as stored'],
  ],
  [
    'drops large values',
    broken((store) => {
      const set = store.set;
      store.set = async (key: string, value: unknown, ttl?: number) =>
        JSON.stringify(value).length > 50_000 ? true : set(key, value, ttl);
    }),
    ['store adapter contract > set then get', 'through createCache > JSON values round-trip exactly'],
  ],
  [
    'says true when deleting a missing key',
    broken((store) => {
      const remove = store.delete;
      store.delete = async (key: string) => (await remove(key)) || true;
    }),
    ['store adapter contract > delete is true for a present key'],
  ],
  [
    'returns getMany out of order',
    broken((store) => {
      const getMany = store.getMany?.bind(store) as NonNullable<Store['getMany']>;
      store.getMany = async (keys: string[]) => (await getMany(keys)).reverse() as never;
    }),
    ['store adapter contract > getMany, when implemented', 'through createCache > getMany keeps order'],
  ],
  [
    'scans across the prefix boundary',
    broken((store) => ({
      scan: scanWith((pattern) => new RegExp(`^${pattern.split(/:?\*/)[0]}`), store),
    })),
    // Only the raw level can catch it: core re-checks the prefix of every scanned key.
    ['store adapter contract > scan matches a prefix glob and never crosses the prefix boundary'],
  ],
  [
    'ignores escapes in scan patterns',
    broken((store) => ({ scan: scanWith((pattern) => compileGlob(pattern.replaceAll('\\', '')), store) })),
    [
      'store adapter contract > scan treats escaped glob characters as literals',
      'through createCache > glob characters in an escaped id are literal',
    ],
  ],
  [
    'reports memory for missing keys',
    broken((_store, capabilities) => ({
      memoryUsage: async (keys: string[]) =>
        (await capabilities.memoryUsage?.(keys))?.map((bytes) => bytes ?? 0) ?? [],
    })),
    ['store adapter contract > memoryUsage is positive for present keys'],
  ],
  [
    'serves deleted entries from getSync',
    broken((store) => {
      const shadow = new Map<string, unknown>();
      const set = store.set;
      store.set = async (key: string, value: unknown, ttl?: number) => {
        shadow.set(key, value);
        return set(key, value, ttl);
      };
      return { getSync: (key: string) => shadow.get(key) };
    }),
    ['store adapter contract > getSync reads what set stored'],
  ],
];

describe('the contract suite catches broken stores', () => {
  it('passes a healthy store through the fake runner (the baseline for the cases below)', async () => {
    expect(await failingTests(() => mapAdapter('full'))).toEqual([]);
  });

  it.each(cases)('a store that %s fails the tests for it', async (_name, createStore, expected) => {
    const failed = await failingTests(createStore);
    for (const fragment of expected) {
      expect(
        failed.some((name) => name.includes(fragment)),
        `${fragment} should fail; failed: ${failed.join('\n')}`,
      ).toBe(true);
    }
  });
});
