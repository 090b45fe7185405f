import { randomBytes } from 'node:crypto';
import {
  type Cache,
  type CacheOptions,
  type Codec,
  createCache,
  encryptedCodec,
  jsonCodec,
  ttl,
} from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { flipByte, JSON_VALUES, KEY_A, KEY_B } from './support/codecs.js';
import { manualClock } from './support/helpers.js';
import { structuredStore } from './support/stores.js';

// encryptedCodec on a serializing in-process store (a Map): the codec runs on every write and
// read, and the test can read and rewrite what the "store" keeps, as a foreign writer would.

const opened: Cache[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

function open(map: Map<string, unknown>, codec: Codec, options: Partial<CacheOptions> = {}): Cache {
  const cache = createCache({ store: map, prefix: 'enc', codec, ...options });
  opened.push(cache);
  return cache;
}

const ringA = () => encryptedCodec({ keys: { a: KEY_A }, currentKeyId: 'a' });

describe('encryptedCodec: round trips', () => {
  for (const [kind, value] of JSON_VALUES) {
    it(`${kind} comes back exactly, and the store holds no plaintext`, async () => {
      const map = new Map<string, unknown>();
      const cache = open(map, ringA());
      await cache.set('k', value);
      expect(await cache.get('k')).toEqual(value);
      const stored = map.get('enc:k') as string;
      expect(stored).toMatch(/^enc1:a:[A-Za-z0-9+/]+=*$/);
      if (typeof value === 'string' && value.length > 0) expect(stored).not.toContain(value.slice(0, 6));
      expect(cache.stats().totals).toMatchObject({ hits: 1, corruptEntries: 0 });
    });
  }

  it('getOrSet, getMany and setMany go through it too; tags still work', async () => {
    const map = new Map<string, unknown>();
    const cache = open(map, ringA());
    let fetches = 0;
    const load = () => cache.getOrSet('orders:1', () => ({ id: 1, n: ++fetches }), { tags: ['account:1'] });
    expect(await load()).toEqual({ id: 1, n: 1 });
    expect(await load()).toEqual({ id: 1, n: 1 });
    await cache.setMany<unknown>([
      { key: 'orders:2', value: 'two' },
      { key: 'orders:3', value: 3 },
    ]);
    expect(await cache.getMany(['orders:1', 'orders:2', 'orders:3', 'orders:4'])).toEqual([
      { id: 1, n: 1 },
      'two',
      3,
      undefined,
    ]);
    for (const key of ['enc:orders:1', 'enc:orders:2', 'enc:orders:3'])
      expect(String(map.get(key))).toMatch(/^enc1:a:/);
    await cache.invalidateTags(['account:1']);
    expect(await load()).toEqual({ id: 1, n: 2 });
  });

  it('encrypts the same value twice to different bytes (a random IV per entry)', async () => {
    const map = new Map<string, unknown>();
    const cache = open(map, ringA(), { clock: manualClock() });
    await cache.set('x', 'same');
    await cache.set('y', 'same');
    const [x, y] = [map.get('enc:x') as string, map.get('enc:y') as string];
    expect(x.length).toBe(y.length);
    expect(x).not.toBe(y);
    expect(Buffer.from(x.slice(7), 'base64').subarray(0, 12)).not.toEqual(
      Buffer.from(y.slice(7), 'base64').subarray(0, 12),
    );
  });

  it('keeps its own copy of the keys: changing the caller buffer later changes nothing', async () => {
    const secret = Buffer.from(KEY_A);
    const map = new Map<string, unknown>();
    const cache = open(map, encryptedCodec({ keys: { a: secret }, currentKeyId: 'a' }));
    await cache.set('k', 'v');
    secret.fill(0);
    await cache.set('k2', 'v2');
    expect(await cache.get('k')).toBe('v');
    const reader = open(map, ringA());
    expect(await reader.get('k2')).toBe('v2');
  });
});

describe('encryptedCodec: entries that do not decrypt are counted corrupt misses', () => {
  async function written(value: unknown = { secret: 'plain' }) {
    const map = new Map<string, unknown>();
    const cache = open(map, ringA());
    await cache.set('orders:1', value);
    return { map, cache, stored: map.get('enc:orders:1') as string };
  }

  async function expectCorrupt(cache: Cache, key: string) {
    const before = cache.stats().totals.corruptEntries;
    expect(await cache.get(key)).toBeUndefined();
    expect(cache.stats().totals.corruptEntries).toBe(before + 1);
    // ...and the next getOrSet replaces it with a fresh fetch.
    expect(await cache.getOrSet(key, () => 'refetched')).toBe('refetched');
    expect(await cache.get(key)).toBe('refetched');
  }

  it('a ciphertext copied under another key (the key is the associated data)', async () => {
    const { map, cache, stored } = await written();
    map.set('enc:orders:2', stored);
    await expectCorrupt(cache, 'orders:2');
    expect(await cache.get('orders:1')).toEqual({ secret: 'plain' });
  });

  it('a ciphertext copied to the same key of another cache prefix (the prefix is part of the key)', async () => {
    const { map, stored } = await written();
    map.set('other:orders:1', stored);
    const other = createCache({ store: map, prefix: 'other', codec: ringA() });
    opened.push(other);
    await expectCorrupt(other, 'orders:1');
  });

  for (const [where, offset] of [
    ['IV', 0],
    ['ciphertext', 14],
    ['authentication tag', -1],
  ] as const) {
    it(`a flipped byte in the ${where}`, async () => {
      const { map, cache, stored } = await written();
      map.set('enc:orders:1', flipByte(stored, offset));
      await expectCorrupt(cache, 'orders:1');
    });
  }

  it('a truncated authentication tag (GCM would accept a short tag if asked to)', async () => {
    const { map, cache, stored } = await written();
    const body = Buffer.from(stored.slice('enc1:a:'.length), 'base64');
    map.set('enc:orders:1', `enc1:a:${body.subarray(0, body.length - 4).toString('base64')}`);
    await expectCorrupt(cache, 'orders:1');
  });

  it('a key id that is not in the ring, and another id of the ring in the header', async () => {
    const { map, cache, stored } = await written();
    map.set('enc:orders:1', stored.replace('enc1:a:', 'enc1:zz:'));
    await expectCorrupt(cache, 'orders:1');
    const both = open(map, encryptedCodec({ keys: { a: KEY_A, b: KEY_B }, currentKeyId: 'a' }));
    await both.set('orders:5', 'five');
    map.set('enc:orders:5', (map.get('enc:orders:5') as string).replace('enc1:a:', 'enc1:b:'));
    await expectCorrupt(both, 'orders:5');
  });

  it('plaintext JSON from a writer that does not encrypt: never accepted (no downgrade)', async () => {
    const map = new Map<string, unknown>();
    const plain = open(map, jsonCodec);
    await plain.set('orders:1', { injected: true });
    expect(String(map.get('enc:orders:1'))).toContain('"injected":true');
    const encrypting = open(map, ringA());
    await expectCorrupt(encrypting, 'orders:1');
    // And the other way: a plain reader sees ciphertext as garbage, never as a value.
    expect(await plain.get('orders:1')).toBeUndefined();
    expect(plain.stats().totals.corruptEntries).toBe(1);
  });

  for (const [name, text] of [
    ['the bare header', 'enc1:'],
    ['a header without a body', 'enc1:a:'],
    ['a body shorter than IV and tag', `enc1:a:${randomBytes(20).toString('base64')}`],
    ['random bytes', `enc1:a:${randomBytes(200).toString('base64')}`],
    ['not base64 at all', 'enc1:a:%%%%not-base64%%%%'],
    ['another format version', 'enc2:a:AAAA'],
    ['garbage text', 'not an entry'],
  ] as const) {
    it(`${name}`, async () => {
      const { map, cache } = await written();
      map.set('enc:orders:1', text);
      await expectCorrupt(cache, 'orders:1');
    });
  }
});

describe('encryptedCodec: key rotation', () => {
  it('a new current key: old entries stay readable, rewrites use the new key, dropping the old key misses the rest', async () => {
    const map = new Map<string, unknown>();
    const clock = manualClock();
    const before = open(map, ringA(), { clock, strategy: ttl('1h') });
    await before.set('a', 'written under a');
    await before.set('b', 'also under a');
    await before.set('c', 'expires, then refetched', { ttl: '1m' });

    // Step 1+2: the new key joins the ring and becomes current; the old one only decrypts.
    const rotated = open(map, encryptedCodec({ keys: { a: KEY_A, b: KEY_B }, currentKeyId: 'b' }), {
      clock,
      strategy: ttl('1h'),
    });
    expect(await rotated.get('a')).toBe('written under a');
    expect(await rotated.get('b')).toBe('also under a');
    expect(rotated.stats().totals).toMatchObject({ hits: 2, corruptEntries: 0 });
    expect(map.get('enc:a')).toMatch(/^enc1:a:/); // a read does not rewrite

    await rotated.set('a', 'rewritten');
    expect(map.get('enc:a')).toMatch(/^enc1:b:/);
    clock.advance(61_000);
    expect(await rotated.getOrSet('c', () => 'fetched again')).toBe('fetched again');
    expect(map.get('enc:c')).toMatch(/^enc1:b:/);
    expect(map.get('enc:b')).toMatch(/^enc1:a:/);

    // Step 3: the old key leaves the ring. Rewritten entries read; the rest are corrupt misses, refetched.
    const after = open(map, encryptedCodec({ keys: { b: KEY_B }, currentKeyId: 'b' }), { clock });
    expect(await after.get('a')).toBe('rewritten');
    expect(await after.get('c')).toBe('fetched again');
    expect(await after.get('b')).toBeUndefined();
    expect(after.stats().totals.corruptEntries).toBe(1);
    expect(await after.getOrSet('b', () => 'refetched under b')).toBe('refetched under b');
    expect(map.get('enc:b')).toMatch(/^enc1:b:/);
  });
});

describe('encryptedCodec: options', () => {
  const bad: Array<[string, () => unknown]> = [
    ['no options', () => encryptedCodec(undefined as never)],
    ['a 31-byte key', () => encryptedCodec({ keys: { a: randomBytes(31) }, currentKeyId: 'a' })],
    ['a 33-byte key', () => encryptedCodec({ keys: { a: randomBytes(33) }, currentKeyId: 'a' })],
    [
      'a key given as a string',
      () => encryptedCodec({ keys: { a: 'x'.repeat(32) as never }, currentKeyId: 'a' }),
    ],
    ['an empty ring', () => encryptedCodec({ keys: {}, currentKeyId: 'a' })],
    ['a ring that is not an object', () => encryptedCodec({ keys: null as never, currentKeyId: 'a' })],
    ['currentKeyId not in the ring', () => encryptedCodec({ keys: { a: KEY_A }, currentKeyId: 'b' })],
    ['currentKeyId missing', () => encryptedCodec({ keys: { a: KEY_A } } as never)],
    ['a key id with a colon', () => encryptedCodec({ keys: { 'a:1': KEY_A }, currentKeyId: 'a:1' })],
    ['an empty key id', () => encryptedCodec({ keys: { '': KEY_A }, currentKeyId: '' })],
    [
      'an inner codec without decode()',
      () =>
        encryptedCodec({
          keys: { a: KEY_A },
          currentKeyId: 'a',
          inner: { name: 'x', encode: () => '' } as never,
        }),
    ],
  ];
  for (const [name, build] of bad) {
    it(`${name}: E_INVALID_OPTION, thrown at construction`, () => {
      expect(build).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', name: 'CacheError' }));
    });
  }

  it('names the algorithm and what it wraps; a usable codec on its own', () => {
    const codec = ringA();
    expect(codec.name).toBe('aes-256-gcm(json)');
    const envelope = { v: 1, value: 'x', createdAt: 0, freshUntil: null, livesUntil: null } as const;
    expect(codec.decode(codec.encode(envelope, 'p:k'), 'p:k')).toEqual(envelope);
    expect(() => codec.decode(codec.encode(envelope, 'p:k'), 'p:other')).toThrow(
      expect.objectContaining({ code: 'E_CORRUPT_ENTRY' }),
    );
  });

  it('on an in-process structured store (memoryStore) nothing leaves the process: values are kept as objects', async () => {
    const store = structuredStore();
    const cache = createCache({ store, prefix: 'enc', codec: ringA() });
    opened.push(cache);
    await cache.set('k', { a: 1 });
    expect(store.map.get('enc:k')).toMatchObject({ value: { a: 1 } });
    expect(await cache.get('k')).toEqual({ a: 1 });
  });
});
