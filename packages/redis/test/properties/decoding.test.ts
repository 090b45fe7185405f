import { createClient } from '@keyv/redis';
import { type Cache, createCache, jsonCodec } from '@org/cache-core';
import { isEnvelope } from '@org/cache-core/adapter';
import { redisStore } from '@org/cache-redis';
import { deepJson, envelopeLike, runs, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Whatever another program left under an entry's key in Redis (any bytes, any JSON, an envelope
// look-alike, a hash or a list), a read through the cache is a miss counted as a corrupt entry,
// never an exception, and getOrSet fetches and replaces it.

/** A string value (as bytes), or a Redis type other than string. */
type Planted = { bytes: Uint8Array } | { type: 'hash' | 'list' | 'set' };

const planted: fc.Arbitrary<Planted> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ bytes })),
  fc.string({ unit: 'binary' }).map((text) => ({ bytes: Buffer.from(text) })),
  fc.json().map((text) => ({ bytes: Buffer.from(text) })),
  envelopeLike.map((candidate) => ({ bytes: Buffer.from(JSON.stringify(candidate)) })),
  deepJson.map((text) => ({ bytes: Buffer.from(text) })),
  fc.constantFrom('hash' as const, 'list' as const, 'set' as const).map((type) => ({ type })),
);

/** Would core accept these bytes as an entry (as node-redis hands them over: UTF-8 text)? */
function readable(value: Planted): boolean {
  if (!('bytes' in value)) return false;
  try {
    return isEnvelope(jsonCodec.decode(Buffer.from(value.bytes).toString('utf8'), entryKey));
  } catch {
    return false;
  }
}

const client = createClient({ url: sharedRedisUrl() });
const prefix = uniquePrefix('decoding-property');
const entryKey = `${prefix}:orders:1`;
let cache: Cache;

beforeAll(async () => {
  await client.connect();
  cache = createCache({ store: redisStore({ url: sharedRedisUrl() }), prefix });
});

afterAll(async () => {
  await client.del([entryKey, `${prefix}:orders:2`]);
  await cache?.close();
  await client.close();
});

async function plant(value: Planted): Promise<void> {
  await client.del(entryKey);
  if ('bytes' in value) await client.set(entryKey, Buffer.from(value.bytes));
  else if (value.type === 'hash') await client.hSet(entryKey, 'value', '1');
  else if (value.type === 'list') await client.rPush(entryKey, '1');
  else await client.sAdd(entryKey, '1');
}

describe('decoding what Redis holds (property)', () => {
  it('arbitrary bytes, JSON, look-alikes and other types are counted corrupt misses, never exceptions', async () => {
    await fc.assert(
      fc.asyncProperty(planted, async (value) => {
        fc.pre(!readable(value));
        await plant(value);
        const corrupt = () => cache.stats().totals.corruptEntries;
        const { storeErrors } = cache.stats().totals;
        const before = corrupt();
        expect(await cache.get('orders:1')).toBeUndefined();
        expect(corrupt()).toBe(before + 1);
        expect(await cache.getMany(['orders:1', 'orders:2'])).toEqual([undefined, undefined]);
        // MGET answers nil for a key of another type, as for no key at all: getMany cannot tell
        // a hash under an entry key from a miss without another round trip, so it counts a plain
        // miss there (get and getOrSet see WRONGTYPE and count it corrupt).
        const otherType = !('bytes' in value);
        expect(corrupt()).toBe(before + (otherType ? 1 : 2));
        expect(await cache.getOrSet('orders:1', () => ({ fetched: true }))).toEqual({ fetched: true });
        expect(corrupt()).toBe(before + (otherType ? 2 : 3));
        expect(await cache.get('orders:1')).toEqual({ fetched: true });
        // Bad data is not a failing Redis: nothing counted as a store error, the breaker stays shut.
        expect(cache.stats().totals.storeErrors).toBe(storeErrors);
        expect(cache.stats().store.breaker).toBe('closed');
      }),
      runs(150),
    );
    // A bound for a busy 2-core machine, not a performance target: ~2 s alone.
  }, 60_000);
});
