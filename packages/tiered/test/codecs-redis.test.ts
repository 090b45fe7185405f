import { randomBytes } from 'node:crypto';
import { type Codec, compressedCodec, createCache, encryptedCodec } from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { redisCommand, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { tieredStore } from '@org/cache-tiered';
import { afterEach, describe, expect, it } from 'vitest';

// The tiered store keeps envelope objects in L1 (no codec on the hot path) and encodes what it
// sends to L2 with the cache's codec: an encrypting cache never puts plaintext in Redis. On the
// shared Redis (REDIS_URL or 127.0.0.1:6379), a unique prefix per test.

const url = sharedRedisUrl();
const { hostname, port } = new URL(url);
const command = (...args: string[]) => redisCommand(Number(port || 6379), args, { host: hostname });
const raw = {
  get: async (key: string) => (await command('GET', key)) as string | null,
  set: (key: string, value: string) => command('SET', key, value),
  async deleteAll(prefix: string) {
    let cursor = '0';
    do {
      const [next, keys] = (await command('SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', '500')) as [
        string,
        string[],
      ];
      if (keys.length > 0) await command('DEL', ...keys);
      cursor = next;
    } while (cursor !== '0');
  },
};

const closers: Array<() => Promise<unknown>> = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  for (const prefix of prefixes.splice(0)) await raw.deleteAll(prefix);
});

/** Polls a condition every 10 ms; fails after 5 s (generous for a busy machine). */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5000) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const KEY = randomBytes(32);
const encrypting = (inner?: Codec) => encryptedCodec({ keys: { k1: KEY }, currentKeyId: 'k1', inner });

async function instance(prefix: string, channel: string, codec: Codec) {
  const l1 = memoryStore();
  const bus = redisBus({ url, channel });
  const store = tieredStore({ l1, l2: redisStore({ url }), bus });
  // A generous deadline for a busy shared machine: a timed-out read is not what these tests check.
  const cache = createCache({ store, prefix, codec, operationTimeout: '10s' });
  closers.push(() => cache.close());
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  await bus.ready();
  return { cache, store, inL1: (key: string) => l1[storeCapabilities].getSync?.(`${prefix}:${key}`) };
}

describe('tieredStore with a codec', () => {
  it('L2 holds ciphertext, L1 the decoded envelope; another instance decrypts from L2', async () => {
    const prefix = uniquePrefix('tier-codec');
    const channel = uniquePrefix('tier-codec-bus');
    const a = await instance(prefix, channel, encrypting());
    const b = await instance(prefix, channel, encrypting());
    await a.cache.set('accounts:1', { iban: 'DE89370400440532013000' }, { tags: ['account:1'] });
    const stored = (await raw.get(`${prefix}:accounts:1`)) as string;
    expect(stored).toMatch(/^enc1:k1:/);
    expect(stored).not.toContain('DE89');
    expect(a.inL1('accounts:1')).toMatchObject({ value: { iban: 'DE89370400440532013000' } });

    const l2Reads = b.store.stats.l2Reads;
    expect(await b.cache.get('accounts:1')).toEqual({ iban: 'DE89370400440532013000' });
    expect(b.store.stats.l2Reads).toBeGreaterThan(l2Reads);
    expect(b.cache.stats().totals).toMatchObject({ hits: 1, corruptEntries: 0 });

    // Tag tokens pass through the codec untouched: invalidation still reaches both instances.
    const receivedByA = a.store.stats.bus?.received ?? 0;
    await b.cache.invalidateTags(['account:1']);
    expect(await b.cache.get('accounts:1')).toBeUndefined();
    await until(() => (a.store.stats.bus?.received ?? 0) > receivedByA);
    expect(await a.cache.get('accounts:1')).toBeUndefined();
  });

  it('a getOrSet written through the lease is encoded too (compressed, then encrypted)', async () => {
    const prefix = uniquePrefix('tier-codec-lease');
    const { cache } = await instance(
      prefix,
      uniquePrefix('tier-bus'),
      encrypting(compressedCodec({ threshold: 0 })),
    );
    const page = { rows: Array.from({ length: 200 }, (_, index) => ({ index, status: 'shipped' })) };
    expect(await cache.getOrSet('page', () => page)).toEqual(page);
    const stored = (await raw.get(`${prefix}:page`)) as string;
    expect(stored).toMatch(/^enc1:k1:/);
    expect(stored.length).toBeLessThan(JSON.stringify(page).length / 2);
  });

  it('plaintext or a moved ciphertext in L2 is a counted corrupt miss, never served, then replaced', async () => {
    const prefix = uniquePrefix('tier-codec-corrupt');
    const { cache } = await instance(prefix, uniquePrefix('tier-bus'), encrypting());
    await raw.set(
      `${prefix}:plain`,
      JSON.stringify({ v: 1, value: 'injected', createdAt: 0, freshUntil: null, livesUntil: null }),
    );
    await cache.set('real', 'secret');
    await raw.set(`${prefix}:moved`, (await raw.get(`${prefix}:real`)) as string);
    for (const key of ['plain', 'moved']) {
      const before = cache.stats().totals.corruptEntries;
      expect(await cache.get(key)).toBeUndefined();
      expect(cache.stats().totals.corruptEntries).toBe(before + 1);
      expect(await cache.getOrSet(key, () => `fetched ${key}`)).toBe(`fetched ${key}`);
      expect(await raw.get(`${prefix}:${key}`)).toMatch(/^enc1:k1:/);
      expect(await cache.get(key)).toBe(`fetched ${key}`);
    }
  });

  it('every cache on one tiered store must share one codec (E_INVALID_OPTION otherwise)', async () => {
    const codec = encrypting();
    const store = tieredStore({ l1: memoryStore(), l2: redisStore({ url }) });
    closers.push(() => store.disconnect());
    const first = createCache({ store, prefix: uniquePrefix('tier-one'), codec });
    prefixes.push(first.prefix);
    const second = createCache({ store, prefix: uniquePrefix('tier-two'), codec });
    expect(() => createCache({ store, prefix: uniquePrefix('tier-three') })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => createCache({ store, prefix: uniquePrefix('tier-four'), codec: encrypting() })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    await first.set('k', 1);
    expect(await second.get('k')).toBeUndefined();
    expect(await first.get('k')).toBe(1);
  });
});
