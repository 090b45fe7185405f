import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants } from 'node:zlib';
import { createClient } from '@keyv/redis';
import {
  type Cache,
  type Codec,
  compressedCodec,
  createCache,
  encryptedCodec,
  jsonCodec,
} from '@org/cache-core';
import { sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';

// Encrypted and compressed entries on a real Redis (REDIS_URL or 127.0.0.1:6379, a unique prefix
// per test), checked through what Redis really holds: raw GET / SET / STRLEN on a plain client.

const url = sharedRedisUrl();
const raw = createClient({ url });
beforeAll(async () => {
  await raw.connect();
});
afterAll(async () => {
  await raw.close();
});

const opened: Cache[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
  for (const prefix of prefixes.splice(0)) {
    for await (const keys of raw.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 }))
      if (keys.length > 0) await raw.del(keys);
  }
});

function open(codec: Codec, prefix = uniquePrefix('codec')): Cache {
  // A generous deadline: on a busy shared machine a 100 KB read can take longer than the default
  // 250 ms, and a timed-out read would be a store error where these tests expect a decode.
  const cache = createCache({ store: redisStore({ url }), prefix, codec, operationTimeout: '10s' });
  opened.push(cache);
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  return cache;
}

const KEY_1 = randomBytes(32);
const KEY_2 = randomBytes(32);
const ring1 = (inner?: Codec) => encryptedCodec({ keys: { k1: KEY_1 }, currentKeyId: 'k1', inner });
const rawKey = (cache: Cache, key: string) => `${cache.prefix}:${key}`;
const rawGet = async (cache: Cache, key: string) => (await raw.get(rawKey(cache, key))) as string;

/** ~100 KB of order-like JSON. */
function bigPage() {
  return {
    orders: Array.from({ length: 600 }, (_, index) => ({
      id: `801Dn0000${String(index).padStart(9, '0')}`,
      status: ['shipped', 'processing', 'delivered'][index % 3],
      totalAmount: ((index * 37) % 5000) + 0.99,
      effectiveDate: `2024-${String((index % 12) + 1).padStart(2, '0')}-10T08:30:00.000Z`,
    })),
  };
}

const values: unknown[] = [
  0,
  -1.5,
  '',
  'Zoë 東京 🎉',
  true,
  false,
  null,
  [],
  {},
  [1, 'a', { b: [null] }],
  bigPage(),
];

async function expectCorrupt(cache: Cache, key: string) {
  const before = cache.stats().totals.corruptEntries;
  expect(await cache.get(key)).toBeUndefined();
  expect(cache.stats().totals.corruptEntries).toBe(before + 1);
  expect(cache.stats().totals.storeErrors).toBe(0);
  expect(await cache.getOrSet(key, () => 'refetched')).toBe('refetched');
  expect(await cache.get(key)).toBe('refetched');
}

describe('codecs on Redis: round trips', () => {
  const codecs: Array<[string, () => Codec, RegExp]> = [
    ['encrypted', () => ring1(), /^enc1:k1:/],
    ['gzip', () => compressedCodec({ algorithm: 'gzip', threshold: 0 }), /^(gzip|raw):/],
    ['brotli', () => compressedCodec({ threshold: 0 }), /^(brotli|raw):/],
    ['compressed, then encrypted', () => ring1(compressedCodec({ threshold: 0 })), /^enc1:k1:/],
  ];
  for (const [name, codec, format] of codecs) {
    it(`${name}: every kind of JSON value comes back exactly; Redis holds the encoded form`, async () => {
      const cache = open(codec());
      for (const [index, value] of values.entries()) await cache.set(`v:${index}`, value);
      for (const [index, value] of values.entries()) {
        expect(await cache.get(`v:${index}`)).toEqual(value);
        expect(await rawGet(cache, `v:${index}`)).toMatch(format);
      }
      const keys = values.map((_, index) => `v:${index}`);
      expect(await cache.getMany(keys)).toEqual(values);
      expect(cache.stats().totals).toMatchObject({ corruptEntries: 0, storeErrors: 0 });
    });
  }
});

describe('encrypted entries on Redis', () => {
  it('hold no plaintext', async () => {
    const cache = open(ring1());
    await cache.set('accounts:1', { iban: 'DE89370400440532013000' });
    const stored = await rawGet(cache, 'accounts:1');
    expect(stored).toMatch(/^enc1:k1:[A-Za-z0-9+/]+=*$/);
    expect(stored).not.toContain('DE89');
  });

  it('a ciphertext moved to another key with raw GET / SET is a counted corrupt miss', async () => {
    const cache = open(ring1());
    await cache.set('accounts:1', { owner: 'alice' });
    await raw.set(rawKey(cache, 'accounts:2'), await rawGet(cache, 'accounts:1'));
    await expectCorrupt(cache, 'accounts:2');
    expect(await cache.get('accounts:1')).toEqual({ owner: 'alice' });
  });

  it('a tampered byte is a counted corrupt miss', async () => {
    const cache = open(ring1());
    await cache.set('accounts:1', { owner: 'alice' });
    const stored = await rawGet(cache, 'accounts:1');
    const body = Buffer.from(stored.slice('enc1:k1:'.length), 'base64');
    body[20] = (body[20] as number) ^ 0x80;
    await raw.set(rawKey(cache, 'accounts:1'), `enc1:k1:${body.toString('base64')}`);
    await expectCorrupt(cache, 'accounts:1');
  });

  it('a plaintext JSON entry (a writer that does not encrypt) is a counted corrupt miss, never served', async () => {
    const prefix = uniquePrefix('codec-plain');
    const plain = open(jsonCodec, prefix);
    await plain.set('accounts:1', { owner: 'mallory' });
    expect(await raw.get(`${prefix}:accounts:1`)).toContain('mallory');
    const encrypting = open(ring1(), prefix);
    await expectCorrupt(encrypting, 'accounts:1');
    expect(await raw.get(`${prefix}:accounts:1`)).toMatch(/^enc1:k1:/);
  });

  it('rotation: old entries readable, rewritten under the new key; without the old key they are refetched', async () => {
    const prefix = uniquePrefix('codec-rotate');
    const before = open(ring1(), prefix);
    await before.set('a', 'old a');
    await before.set('b', 'old b');

    const rotated = open(encryptedCodec({ keys: { k1: KEY_1, k2: KEY_2 }, currentKeyId: 'k2' }), prefix);
    expect(await rotated.get('a')).toBe('old a');
    expect(await rotated.get('b')).toBe('old b');
    await rotated.set('a', 'new a');
    expect(await raw.get(`${prefix}:a`)).toMatch(/^enc1:k2:/);
    expect(await raw.get(`${prefix}:b`)).toMatch(/^enc1:k1:/);
    // An instance not yet given the new key (a rolling deploy done in the wrong order) misses, never crashes.
    expect(await before.get('a')).toBeUndefined();
    expect(before.stats().totals.corruptEntries).toBe(1);

    const after = open(encryptedCodec({ keys: { k2: KEY_2 }, currentKeyId: 'k2' }), prefix);
    expect(await after.get('a')).toBe('new a');
    await expectCorrupt(after, 'b');
    expect(await raw.get(`${prefix}:b`)).toMatch(/^enc1:k2:/);
  });
});

describe('compressed entries on Redis', () => {
  it('take fewer bytes in Redis (STRLEN), alone and under encryption', async () => {
    const prefix = uniquePrefix('codec-size');
    const page = bigPage();
    const sizes: Record<string, number> = {};
    const codecs: Record<string, Codec> = {
      json: jsonCodec,
      gzip: compressedCodec({ algorithm: 'gzip' }),
      brotli: compressedCodec({ algorithm: 'brotli' }),
      encrypted: ring1(),
      'brotli+encrypted': ring1(compressedCodec()),
    };
    for (const [name, codec] of Object.entries(codecs)) {
      const cache = open(codec, `${prefix}-${name.replace('+', '-')}`);
      await cache.set('page', page);
      expect(await cache.get('page')).toEqual(page);
      sizes[name] = await raw.strLen(rawKey(cache, 'page'));
    }
    const json = sizes.json as number;
    expect(json).toBeGreaterThan(60_000);
    expect(sizes.gzip).toBeLessThan(json / 4);
    expect(sizes.brotli).toBeLessThan(json / 4);
    // Encryption alone costs base64 (4/3) plus a header, IV and tag.
    expect(sizes.encrypted).toBeGreaterThan(json);
    expect(sizes['brotli+encrypted']).toBeLessThan((sizes.brotli as number) + 64);
  });

  it('a brotli bomb written by another program is a counted corrupt miss, bounded by maxDecodedBytes', async () => {
    // Built before the cache: a second of synchronous compression would stall its first connect.
    const bomb = brotliCompressSync(Buffer.alloc(64 * 1024 * 1024), {
      params: { [constants.BROTLI_PARAM_QUALITY]: 1 },
    });
    const cache = open(compressedCodec({ maxDecodedBytes: 1024 * 1024 }));
    await raw.set(rawKey(cache, 'bomb'), `brotli:${bomb.toString('base64')}`);
    await expectCorrupt(cache, 'bomb');
  });
});
