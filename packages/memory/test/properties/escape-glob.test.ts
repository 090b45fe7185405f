import { type Cache, createCache, escapeGlob } from '@org/cache-core';
import { compileGlob } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import { runs } from '@org/cache-test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { key, segment } from './arbitraries.js';

// escapeGlob(id) makes any id literal: the pattern matches that id and nothing else, whatever
// glob metacharacters, separators or multi-byte characters the id and its neighbours hold.

describe('escapeGlob (property)', () => {
  it('compileGlob(escapeGlob(a)) matches b exactly when a === b', () => {
    // b is often a itself or a near miss of it (one character changed, added or removed).
    const pair = segment.chain((a) =>
      fc.tuple(
        fc.constant(a),
        fc.oneof(
          fc.constant(a),
          segment,
          fc.tuple(fc.nat(), segment).map(([at, insert]) => {
            // By code point: splitting a surrogate pair would test lone surrogates, which keys refuse.
            const characters = Array.from(a);
            characters.splice(at % (characters.length + 1), 1, insert);
            return characters.join('');
          }),
          fc.constant(Array.from(a).slice(1).join('')),
          fc.constant(`${a}${a}`),
        ),
      ),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(compileGlob(escapeGlob(a)).test(b)).toBe(a === b);
      }),
      runs(2_000),
    );
  });

  it('on memory, scan, countByPattern and deleteByPattern of escapeGlob(id) touch that id only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(key, { minLength: 1, maxLength: 25 }), async (keys) => {
        const cache: Cache = createCache({ store: memoryStore(), prefix: 'prop' });
        try {
          for (const id of keys) await cache.set(id, id);
          for (const id of keys) {
            const found: string[] = [];
            for await (const match of cache.scan(escapeGlob(id))) found.push(match);
            expect(found).toEqual([id]);
            expect(await cache.countByPattern(escapeGlob(id))).toBe(1);
            // The escaped id as a literal prefix before a wildcard: the id's own subkeys, and no others.
            expect(await cache.countByPattern(`${escapeGlob(id)}:*`)).toBe(
              keys.filter((other) => other.startsWith(`${id}:`)).length,
            );
          }
          const [gone, ...kept] = keys as [string, ...string[]];
          expect(await cache.deleteByPattern(escapeGlob(gone))).toBe(1);
          expect(await cache.get(gone)).toBeUndefined();
          for (const id of kept) expect(await cache.get(id)).toBe(id);
        } finally {
          await cache.close();
        }
      }),
      runs(100),
    );
  });
});
