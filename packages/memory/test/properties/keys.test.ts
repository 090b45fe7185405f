import { type Cache, cacheKey, createCache, isCacheError } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { runs } from '@org/cache-test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketId, segment, segmentsOf } from './arbitraries.js';

// Keys and ids round-trip: whatever the (valid) text, a key names exactly one entry, a bucket id
// maps to `domain:bucket:<segments>`, and no key ever sees another's value.

async function withCache<T>(run: (cache: Cache) => Promise<T>): Promise<T> {
  const cache = createCache({ store: memoryStore(), prefix: 'prop' });
  try {
    return await run(cache);
  } finally {
    await cache.close();
  }
}

async function scanned(cache: Cache, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.scan(pattern)) keys.push(key);
  return keys.sort();
}

const segmentOrNumber = fc.oneof(segment, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));

describe('cacheKey (property)', () => {
  it('joins its segments with ":" and splits back into them', () => {
    fc.assert(
      fc.property(fc.array(segmentOrNumber, { minLength: 1, maxLength: 5 }), (segments) => {
        const key = cacheKey(...segments);
        expect(key.split(':')).toEqual(segments.map(String));
      }),
      runs(500),
    );
  });

  it('refuses an empty segment or a control character anywhere, with E_INVALID_KEY', () => {
    const bad = fc.oneof(
      fc.constant(''),
      fc.integer({ min: 0, max: 0x1f }).map((code) => `a${String.fromCharCode(code)}`),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), bad, fc.nat(), (segments, badSegment, at) => {
        const all = [...segments];
        all.splice(at % (segments.length + 1), 0, badSegment);
        let error: unknown;
        try {
          cacheKey(...all);
        } catch (caught) {
          error = caught;
        }
        expect(isCacheError(error) && error.code).toBe('E_INVALID_KEY');
      }),
      runs(300),
    );
  });

  it('distinct keys are distinct entries on memory: each reads back its own value, scan lists them all', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.array(segment, { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 20,
          selector: (segments) => segments.join(':'),
        }),
        (keys) =>
          withCache(async (cache) => {
            const full = keys.map((segments) => cacheKey(...segments));
            for (const key of full) await cache.set(key, { key });
            for (const key of full) expect(await cache.get(key)).toEqual({ key });
            expect(await scanned(cache, '*')).toEqual([...full].sort());
          }),
      ),
      runs(100),
    );
  });
});

describe('bucket ids (property)', () => {
  it('an id maps to domain:bucket:<segments>, reads back, scans back and is invalidated alone', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(bucketId, {
          minLength: 1,
          maxLength: 15,
          selector: (id) => segmentsOf(id).join(':'),
        }),
        fc.nat(),
        (ids, pick) =>
          withCache(async (cache) => {
            const { x, y } = cache.domain('orders', { buckets: { x: {}, y: {} } }).buckets;
            const keys = ids.map((id) => x.key(id));
            expect(keys).toEqual(ids.map((id) => ['orders', 'x', ...segmentsOf(id)].join(':')));
            for (const id of ids) await x.set(id, { id });
            // Another bucket with the same ids never shows through.
            for (const id of ids) await y.set(id, 'other');
            for (const id of ids) expect(await x.get(id)).toEqual({ id });
            expect(await scanned(cache, 'orders:x:*')).toEqual([...keys].sort());

            const gone = ids[pick % ids.length] as (typeof ids)[number];
            expect(await x.invalidate(gone)).toBe(true);
            for (const id of ids) expect(await x.get(id)).toEqual(id === gone ? undefined : { id });
            expect(await x.invalidateAll()).toBe(ids.length - 1);
            expect(await scanned(cache, 'orders:x:*')).toEqual([]);
            expect(await cache.countByPattern('orders:y:*')).toBe(ids.length);
          }),
      ),
      runs(100),
    );
  });
});
