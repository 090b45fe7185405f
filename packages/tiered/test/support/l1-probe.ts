import type { Cache } from '@org/cache-core';
import type { TieredStore } from '@org/cache-tiered';
import { expect } from 'vitest';

/** A read and whether L1 answered it (in-process tiered tests). */
export async function probe(store: TieredStore, cache: Cache, key: string) {
  const hits = store.stats.l1Hits;
  const value = await cache.get(key);
  return { value, l1Hit: store.stats.l1Hits > hits };
}

/** Reads until L1 answers (the first read fills L1 through the tracked connection). */
export async function fillL1(
  store: TieredStore,
  cache: Cache,
  key: string,
  expected: unknown,
): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const read = await probe(store, cache, key);
    expect(read.value, `read ${attempt} of ${key}`).toEqual(expected);
    if (read.l1Hit) return;
  }
  expect.fail(`L1 never held ${key} after 5 reads`);
}
