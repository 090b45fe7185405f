import { type Cache, createCache, jsonCodec } from '@org/cache-core';
import { isEnvelope } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import { brokenEnvelope, runs, storedGarbage } from '@org/cache-test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Whatever another program (or a bug, or an older version) left under an entry's key, a read is
// a miss counted as a corrupt entry, never an exception; getOrSet then fetches and replaces it.

/** Would core accept this stored value as an entry? (Then it is a hit, not garbage: skipped.) */
function readable(stored: unknown): boolean {
  if (typeof stored !== 'string') return isEnvelope(stored);
  try {
    return isEnvelope(jsonCodec.decode(stored, 'prop:orders:1'));
  } catch {
    return false;
  }
}

async function expectCountedMisses(cache: Cache, plant: () => void | Promise<void>): Promise<void> {
  const corrupt = () => cache.stats().totals.corruptEntries;
  await plant();
  const before = corrupt();
  expect(await cache.get('orders:1')).toBeUndefined();
  expect(corrupt()).toBe(before + 1);
  expect(await cache.getMany(['orders:1', 'orders:2'])).toEqual([undefined, undefined]);
  expect(corrupt()).toBe(before + 2);
  expect(await cache.getOrSet('orders:1', () => ({ fetched: true }))).toEqual({ fetched: true });
  expect(corrupt()).toBe(before + 3);
  // Replaced by the fetch: the next read is a plain hit.
  expect(await cache.get('orders:1')).toEqual({ fetched: true });
  expect(corrupt()).toBe(before + 3);
}

const stores = {
  // A raw Map: core stores JSON text in it, so garbage text goes through the codec.
  'a raw Map': () => {
    const map = new Map<string, unknown>();
    return { store: map, plant: (stored: unknown) => map.set('prop:orders:1', stored) };
  },
  // memoryStore keeps envelopes as objects: garbage reaches the envelope check as it is.
  memoryStore: () => {
    const store = memoryStore();
    return { store, plant: (stored: unknown) => store.set('prop:orders:1', stored) };
  },
};

describe.each(Object.entries(stores))('decoding what is stored, on %s (property)', (_, makeStore) => {
  it('arbitrary text, JSON and values are counted corrupt misses, never exceptions', async () => {
    await fc.assert(
      fc.asyncProperty(storedGarbage, async (stored) => {
        fc.pre(!readable(stored));
        const { store, plant } = makeStore();
        const cache = createCache({ store, prefix: 'prop' });
        try {
          await expectCountedMisses(cache, () => {
            plant(stored);
          });
        } finally {
          await cache.close();
        }
      }),
      runs(200),
    );
    // A bound for a busy 2-core machine, not a performance target: a run takes ~1-2 s alone.
  }, 60_000);

  it('an envelope with one field broken is a counted corrupt miss', async () => {
    await fc.assert(
      fc.asyncProperty(brokenEnvelope, fc.boolean(), async (envelope, asText) => {
        const { store, plant } = makeStore();
        const cache = createCache({ store, prefix: 'prop' });
        try {
          await expectCountedMisses(cache, () => {
            plant(asText ? JSON.stringify(envelope) : envelope);
          });
        } finally {
          await cache.close();
        }
      }),
      runs(300),
    );
  }, 60_000);
});
