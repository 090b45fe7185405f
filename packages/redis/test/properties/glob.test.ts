import { createClient } from '@keyv/redis';
import { type Cache, createCache, escapeGlob, isCacheError } from '@org/cache-core';
import { compileGlob } from '@org/cache-core/adapter';
import { redisStore } from '@org/cache-redis';
import { runs, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Our glob (compileGlob: the memory store and core's own filters) and Redis's (SCAN MATCH) must
// select the same keys for every pattern, and escapeGlob(id) must select that id alone on Redis
// too. Generated from an alphabet rich in glob syntax, separators and multi-byte UTF-8.
//
// Batched: one run sends one SADD of its pool of keys, then one SSCAN MATCH per pattern,
// pipelined; SSCAN matches members with the same stringmatchlen as SCAN matches keys, on a set
// of a few dozen members instead of the whole shared keyspace. The escapeGlob property goes
// through the store's own SCAN, on keys under a unique prefix.

const syntax = fc.constantFrom('*', '?', '[', ']', '^', '-', '\\', 'a', 'b', 'c', ':', 'é', '東', '😀');
const patternText = fc.string({ unit: syntax, minLength: 1, maxLength: 10 });
// Not empty: Redis's stringmatchlen never matches an empty string (even `**`; only SCAN's
// shortcut for a bare `*` lists it), while compileGlob does; a cache key is never empty.
const keyText = fc.string({ unit: syntax, minLength: 1, maxLength: 8 });

const client = createClient({ url: sharedRedisUrl() });
const prefix = uniquePrefix('glob-property');
let cache: Cache;

beforeAll(async () => {
  await client.connect();
  cache = createCache({ store: redisStore({ url: sharedRedisUrl() }), prefix });
});

afterAll(async () => {
  await cache?.close();
  await client.close();
});

/** What compileGlob says of a pattern: a matcher, or `undefined` when it refuses it (E_INVALID_PATTERN). */
function ours(pattern: string) {
  try {
    return compileGlob(pattern);
  } catch (error) {
    if (isCacheError(error) && error.code === 'E_INVALID_PATTERN') return undefined;
    throw error;
  }
}

async function redisSelects(set: string, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const reply = await client.sScan(set, cursor, { MATCH: pattern, COUNT: 1_000 });
    cursor = String(reply.cursor);
    for (const member of reply.members) found.add(String(member));
  } while (cursor !== '0');
  return [...found].sort();
}

describe('glob agreement with Redis (property)', () => {
  let patternsCompared = 0;
  let patternsRefused = 0;
  afterAll(() => {
    console.log(
      `[property] glob: ${patternsCompared} patterns compared with Redis, ${patternsRefused} refused by compileGlob`,
    );
  });

  it('compileGlob and SSCAN MATCH select the same members for every generated pattern', async () => {
    // Each run: a pool of keys (plus each pattern's own text and its text without the syntax,
    // so that most patterns match something), then 5 to 25 patterns against it.
    const run = fc.tuple(
      fc.uniqueArray(keyText, { minLength: 10, maxLength: 40 }),
      fc.array(patternText, { minLength: 5, maxLength: 25 }),
    );
    await fc.assert(
      fc.asyncProperty(run, async ([keys, patterns]) => {
        const pool = new Set(keys);
        for (const pattern of patterns) {
          pool.add(pattern);
          const literal = pattern.replace(/[*?[\]\\^]/g, '');
          if (literal !== '') pool.add(literal);
        }
        const set = `${prefix}::pool`;
        await client.sAdd(set, [...pool]);
        try {
          const compared = patterns.flatMap((pattern) => {
            const matcher = ours(pattern);
            if (matcher === undefined) {
              patternsRefused++;
              return [];
            }
            patternsCompared++;
            return [{ pattern, mine: [...pool].filter((member) => matcher.test(member)).sort() }];
          });
          const theirs = await Promise.all(compared.map(({ pattern }) => redisSelects(set, pattern)));
          compared.forEach(({ pattern, mine }, index) => {
            expect(mine, `pattern ${JSON.stringify(pattern)}`).toEqual(theirs[index]);
          });
        } finally {
          await client.del(set);
        }
      }),
      runs(40),
    );
    // A bound for a busy 2-core machine, not a performance target: ~1-2 s alone.
  }, 60_000);

  it('escapeGlob(id) selects that id alone through the store SCAN MATCH, count and delete', async () => {
    const id = fc.array(
      fc.string({ unit: syntax, minLength: 1, maxLength: 6 }).filter((s) => !s.includes(':')),
      {
        minLength: 1,
        maxLength: 3,
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          id.map((segments) => segments.join(':')),
          { minLength: 1, maxLength: 12 },
        ),
        async (ids) => {
          await Promise.all(ids.map((key) => cache.set(key, key)));
          try {
            const scans = await Promise.all(
              ids.map(async (key) => {
                const found: string[] = [];
                for await (const match of cache.scan(escapeGlob(key))) found.push(match);
                return found;
              }),
            );
            expect(scans).toEqual(ids.map((key) => [key]));
            const counts = await Promise.all(ids.map((key) => cache.countByPattern(escapeGlob(key))));
            expect(counts).toEqual(ids.map(() => 1));
            const [gone, ...kept] = ids as [string, ...string[]];
            expect(await cache.deleteByPattern(escapeGlob(gone))).toBe(1);
            expect(await cache.get(gone)).toBeUndefined();
            expect(await Promise.all(kept.map((key) => cache.get(key)))).toEqual(kept);
          } finally {
            await cache.deleteMany(ids);
          }
        },
      ),
      runs(30),
    );
  }, 60_000);
});
