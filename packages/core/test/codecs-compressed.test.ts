import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import {
  type Cache,
  type Codec,
  compressedCodec,
  createCache,
  encryptedCodec,
  eventDriven,
  jsonCodec,
} from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { bigPage, flipByte, JSON_VALUES, KEY_A } from './support/codecs.js';

// compressedCodec, alone and under encryptedCodec, on a serializing in-process store (a Map).

const opened: Cache[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

function open(map: Map<string, unknown>, codec: Codec): Cache {
  const cache = createCache({ store: map, prefix: 'z', codec });
  opened.push(cache);
  return cache;
}

const stored = (map: Map<string, unknown>, key: string) => map.get(`z:${key}`) as string;
const encrypting = (inner?: Codec) => encryptedCodec({ keys: { a: KEY_A }, currentKeyId: 'a', inner });

describe('compressedCodec: round trips', () => {
  for (const algorithm of ['brotli', 'gzip'] as const) {
    for (const [kind, value] of JSON_VALUES) {
      it(`${algorithm}: ${kind} comes back exactly`, async () => {
        const cache = open(new Map(), compressedCodec({ algorithm, threshold: 0 }));
        await cache.set('k', value);
        expect(await cache.get('k')).toEqual(value);
      });
    }
  }

  it('compress then encrypt: every kind comes back exactly', async () => {
    const cache = open(new Map(), encrypting(compressedCodec({ threshold: 0 })));
    for (const [, value] of JSON_VALUES) {
      await cache.set('k', value);
      expect(await cache.get('k')).toEqual(value);
    }
    expect(cache.stats().totals.corruptEntries).toBe(0);
  });
});

describe('compressedCodec: what is stored', () => {
  it('below the threshold: the inner text as-is behind a marker; above: compressed and smaller', async () => {
    const map = new Map<string, unknown>();
    const json = open(new Map(), jsonCodec);
    const brotli = open(map, compressedCodec({ threshold: 1024 }));
    await brotli.set('small', { id: 1 });
    expect(stored(map, 'small')).toMatch(/^raw:\{"v":1,"value":\{"id":1\}/);
    await brotli.set('big', bigPage());
    expect(stored(map, 'big')).toMatch(/^brotli:[A-Za-z0-9+/]+=*$/);
    const jsonMap = new Map<string, unknown>();
    await open(jsonMap, jsonCodec).set('big', bigPage());
    const plainBytes = Buffer.byteLength(jsonMap.get('z:big') as string);
    expect(plainBytes).toBeGreaterThan(50_000);
    // base64 costs 4/3, and the page still shrinks more than 5x
    expect(Buffer.byteLength(stored(map, 'big'))).toBeLessThan(plainBytes / 5);
    expect(await brotli.get('big')).toEqual(bigPage());
    await json.close();
  });

  it('gzip is marked as such, and a reader configured for brotli still reads it (switching keeps entries)', async () => {
    const map = new Map<string, unknown>();
    await open(map, compressedCodec({ algorithm: 'gzip' })).set('big', bigPage());
    expect(stored(map, 'big')).toMatch(/^gzip:/);
    expect(await open(map, compressedCodec({ algorithm: 'brotli' })).get('big')).toEqual(bigPage());
  });

  it('an entry that compressing would not shrink is stored uncompressed, even above the threshold', async () => {
    const map = new Map<string, unknown>();
    // ~80 bytes of envelope: gzip's 18 bytes of header and trailer outweigh what deflate saves.
    const cache = createCache({
      store: map,
      prefix: 'z',
      codec: compressedCodec({ algorithm: 'gzip', threshold: 0 }),
      strategy: eventDriven({ safetyTtl: 0 }),
    });
    opened.push(cache);
    await cache.set('tiny', 'x');
    expect(stored(map, 'tiny')).toMatch(/^raw:\{"v":1,"value":"x"/);
    expect(await cache.get('tiny')).toBe('x');
    await cache.set('big', 'x'.repeat(2000));
    expect(stored(map, 'big')).toMatch(/^gzip:/);
  });

  it('plain JSON written before compression was turned on is still read (no wave of misses)', async () => {
    const map = new Map<string, unknown>();
    await open(map, jsonCodec).set('old', { from: 'before' });
    const cache = open(map, compressedCodec());
    expect(await cache.get('old')).toEqual({ from: 'before' });
    expect(cache.stats().totals.corruptEntries).toBe(0);
  });

  it('compress then encrypt: ciphertext of the compressed bytes, base64-encoded once', async () => {
    const map = new Map<string, unknown>();
    await open(map, encrypting()).set('plain', bigPage());
    await open(map, compressedCodec()).set('compressed', bigPage());
    const cache = open(map, encrypting(compressedCodec()));
    await cache.set('both', bigPage());
    const both = stored(map, 'both');
    expect(both).toMatch(/^enc1:a:/);
    expect(encrypting(compressedCodec()).name).toBe('aes-256-gcm(brotli(json))');
    // compressed bytes + 12 (IV) + 16 (tag) + 1 (marker), as base64: about the compressed entry's size
    const compressedBytes = Buffer.byteLength(stored(map, 'compressed'));
    expect(Buffer.byteLength(both)).toBeLessThan(compressedBytes + 64);
    expect(Buffer.byteLength(both)).toBeLessThan(Buffer.byteLength(stored(map, 'plain')) / 5);
    expect(await cache.get('both')).toEqual(bigPage());
    map.set('z:both', flipByte(both, 40));
    expect(await cache.get('both')).toBeUndefined();
    expect(cache.stats().totals.corruptEntries).toBe(1);
  });
});

describe('compressedCodec: unreadable entries are counted corrupt misses', () => {
  /** 1 GiB of zeros in 64 concatenated gzip members of 16 MiB: ~1 MB stored. */
  function gzipBomb(): string {
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    return `gzip:${Buffer.concat(Array.from({ length: 64 }, () => member)).toString('base64')}`;
  }

  function brotliBomb(bytes: number): Buffer {
    return brotliCompressSync(Buffer.alloc(bytes), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
  }

  async function expectCorrupt(cache: Cache, key: string) {
    expect(await cache.get(key)).toBeUndefined();
    expect(cache.stats().totals.corruptEntries).toBe(1);
    expect(await cache.getOrSet(key, () => 'refetched')).toBe('refetched');
    expect(await cache.get(key)).toBe('refetched');
  }

  it('a gzip bomb (1 GiB of zeros in ~1 MB) stops at maxDecodedBytes', async () => {
    const map = new Map<string, unknown>();
    const cache = open(map, compressedCodec({ algorithm: 'gzip' }));
    map.set('z:bomb', gzipBomb());
    await expectCorrupt(cache, 'bomb');
  });

  it('a brotli bomb stops at a configured maxDecodedBytes, and says why', async () => {
    const map = new Map<string, unknown>();
    const codec = compressedCodec({ maxDecodedBytes: 1024 * 1024 });
    const cache = open(map, codec);
    const bomb = brotliBomb(8 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(8 * 1024); // over 1000:1
    map.set('z:bomb', `brotli:${bomb.toString('base64')}`);
    await expectCorrupt(cache, 'bomb');
    expect(() => codec.decode(`brotli:${bomb.toString('base64')}`, 'z:bomb')).toThrow(
      /inflates past maxDecodedBytes \(1048576\)/,
    );
  });

  it('a bomb inside a validly encrypted entry (a writer holding the key) stops there too', async () => {
    const map = new Map<string, unknown>();
    const inner = compressedCodec({ maxDecodedBytes: 1024 * 1024 });
    // A codec that writes the bomb as its compressed bytes, encrypted with the real key.
    const bombing: Codec = {
      name: 'bomb',
      encode: () => '',
      decode: () => undefined,
    };
    const bombBytes = Buffer.concat([Buffer.of(2), brotliBomb(8 * 1024 * 1024)]);
    Object.defineProperty(bombing, Symbol.for('@org/cache-core/codec-binary-form'), {
      value: { encode: () => bombBytes, decode: () => undefined },
    });
    const writer = open(map, encrypting(bombing));
    await writer.set('bomb', 'x');
    const cache = open(map, encrypting(inner));
    await expectCorrupt(cache, 'bomb');
  });

  for (const [name, text] of [
    ['an unknown marker', 'zstd:AAAA'],
    ['invalid gzip data', `gzip:${randomBytes(64).toString('base64')}`],
    ['invalid brotli data', `brotli:${randomBytes(64).toString('base64')}`],
    ['a raw marker over garbage', 'raw:not json'],
    ['garbage text', 'hello'],
  ] as const) {
    it(`${name}`, async () => {
      const map = new Map<string, unknown>();
      const cache = open(map, compressedCodec());
      map.set('z:k', text);
      await expectCorrupt(cache, 'k');
    });
  }
});

describe('compressedCodec: writes and options', () => {
  it('refuses to write an entry larger than maxDecodedBytes (it could not be read back); the previous entry stays', async () => {
    const cache = open(new Map(), compressedCodec({ maxDecodedBytes: 10_000 }));
    await cache.set('k', 'small');
    await expect(cache.set('k', 'x'.repeat(20_000))).rejects.toMatchObject({ code: 'E_INVALID_VALUE' });
    expect(await cache.get('k')).toBe('small');
  });

  const bad: Array<[string, () => unknown]> = [
    ['an unknown algorithm', () => compressedCodec({ algorithm: 'zstd' as never })],
    ['brotli quality 12', () => compressedCodec({ algorithm: 'brotli', level: 12 })],
    ['gzip level 0', () => compressedCodec({ algorithm: 'gzip', level: 0 })],
    ['a fractional level', () => compressedCodec({ level: 2.5 })],
    ['a negative threshold', () => compressedCodec({ threshold: -1 })],
    ['a threshold that is not a number', () => compressedCodec({ threshold: '1kb' as never })],
    ['maxDecodedBytes 0', () => compressedCodec({ maxDecodedBytes: 0 })],
    ['maxDecodedBytes over 2 GiB', () => compressedCodec({ maxDecodedBytes: 2 ** 32 })],
    ['options that are not an object', () => compressedCodec(null as never)],
    ['an inner that is not a codec', () => compressedCodec({ inner: {} as never })],
    ['encrypt, then compress (ciphertext does not compress)', () => compressedCodec({ inner: encrypting() })],
  ];
  for (const [name, build] of bad) {
    it(`${name}: E_INVALID_OPTION, thrown at construction`, () => {
      expect(build).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', name: 'CacheError' }));
    });
  }

  it('names what it does', () => {
    expect(compressedCodec().name).toBe('brotli(json)');
    expect(compressedCodec({ algorithm: 'gzip' }).name).toBe('gzip(json)');
  });
});
