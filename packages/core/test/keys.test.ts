import {
  type Cache,
  type CacheStore,
  cacheKey,
  createCache,
  DEFAULT_MAX_KEY_BYTES,
  escapeGlob,
  isCacheError,
} from '@org/cache-core';
import { compileGlob } from '@org/cache-core/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { thrownBy } from './support/helpers.js';

let open: Cache[] = [];
afterEach(async () => {
  await Promise.all(open.map((cache) => cache.close()));
  open = [];
});

function track(cache: Cache): Cache {
  open.push(cache);
  return cache;
}

/** A keyv-shaped store that fails every operation and counts how often it was touched. */
function exploding(): { store: CacheStore; touched: () => number } {
  let touched = 0;
  const fail = async () => {
    touched++;
    throw new Error('this store must not be touched');
  };
  const store = {
    opts: {},
    on: () => store,
    get: fail,
    getMany: fail,
    set: fail,
    setMany: fail,
    delete: fail,
    deleteMany: fail,
    clear: fail,
  };
  return { store: store as unknown as CacheStore, touched: () => touched };
}

describe('cacheKey', () => {
  it('joins segments with colons, numbers included', () => {
    expect(cacheKey('orders', 'summaries', 'acc_001')).toBe('orders:summaries:acc_001');
    expect(cacheKey('catalog', 'product', 42)).toBe('catalog:product:42');
    expect(cacheKey('x', 0, -1.5)).toBe('x:0:-1.5');
    expect(cacheKey('solo')).toBe('solo');
  });

  it('keeps unicode and glob characters as data', () => {
    expect(cacheKey('users', 'zoë', '東京', '🚀')).toBe('users:zoë:東京:🚀');
    expect(cacheKey('ids', 'a*b?[c]')).toBe('ids:a*b?[c]');
  });

  const refused: Array<[string, unknown[]]> = [
    ['no segments', []],
    ['an empty segment', ['orders', '', '1']],
    ['an empty last segment', ['orders', '']],
    ['an empty first segment', ['', 'orders']],
    ['a segment that makes an empty segment (leading colon)', ['orders', ':1']],
    ['a segment that makes an empty segment (trailing colon)', ['orders:', '1']],
    ['a NUL character', ['orders', 'a\u0000b']],
    ['a newline', ['orders', 'a\nb']],
    ['a tab', ['orders', '\t']],
    ['DEL', ['orders', 'a\u007f']],
    ['a C1 control character', ['orders', 'a\u0085']],
    ['NaN', ['orders', Number.NaN]],
    ['Infinity', ['orders', Number.POSITIVE_INFINITY]],
    ['-Infinity', ['orders', Number.NEGATIVE_INFINITY]],
    ['an object', ['orders', {}]],
    ['undefined', ['orders', undefined]],
    ['a key over 2048 bytes', ['k', 'x'.repeat(DEFAULT_MAX_KEY_BYTES)]],
  ];

  it.each(refused)('throws E_INVALID_KEY synchronously for %s', (_, segments) => {
    const error = thrownBy(() => cacheKey(...(segments as string[])));
    expect(isCacheError(error, 'E_INVALID_KEY')).toBe(true);
    expect(error).toMatchObject({ name: 'CacheError', code: 'E_INVALID_KEY' });
  });

  it('allows colons inside a segment (they become subkeys)', () => {
    expect(cacheKey('orders', 'a:b')).toBe('orders:a:b');
  });
});

describe('keys through a cache', () => {
  it('refuses a key over 2048 bytes of UTF-8 before any I/O', async () => {
    const { store, touched } = exploding();
    const cache = track(createCache({ store, prefix: 'k' }));
    const ascii = 'a'.repeat(2049);
    // 683 three-byte characters: 2049 bytes but only 683 UTF-16 units.
    const wide = '東'.repeat(683);
    for (const key of [ascii, wide]) {
      await expect(cache.get(key)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.set(key, 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.has(key)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.delete(key)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.getOrSet(key, () => 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.getMany(['ok', key])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.setMany([{ key, value: 1 }])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.deleteMany(['ok', key])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    }
    expect(touched()).toBe(0);
  });

  it('refuses empty segments and control characters before any I/O', async () => {
    const { store, touched } = exploding();
    const cache = track(createCache({ store, prefix: 'k' }));
    for (const key of ['', ':a', 'a:', 'a::b', 'a\u0000b', 'line\nbreak', 'bell\u0007']) {
      await expect(cache.get(key)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(cache.set(key, 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    }
    expect(touched()).toBe(0);
  });

  it('accepts a key of exactly 2048 bytes', async () => {
    const cache = track(createCache({ store: new Map(), prefix: 'k' }));
    const key = 'é'.repeat(1024); // 2 bytes each
    await cache.set(key, 'edge');
    expect(await cache.get(key)).toBe('edge');
  });

  it('takes a configurable maxKeyBytes', async () => {
    const small = track(createCache({ store: new Map(), prefix: 'k', maxKeyBytes: 32 }));
    await small.set('x'.repeat(32), 1);
    expect(await small.get('x'.repeat(32))).toBe(1);
    await expect(small.set('x'.repeat(33), 1)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    await expect(small.get('ü'.repeat(17))).rejects.toMatchObject({ code: 'E_INVALID_KEY' });

    const large = track(createCache({ store: new Map(), prefix: 'k', maxKeyBytes: 16_384 }));
    const tenKb = `big:${'k'.repeat(10 * 1024)}`;
    await large.set(tenKb, { ok: true });
    expect(await large.get(tenKb)).toEqual({ ok: true });
    expect(await large.countByPattern('big:*')).toBe(1);
  });

  it('refuses a 10 KB key by default, as a rejection', async () => {
    const cache = track(createCache({ store: new Map(), prefix: 'k' }));
    await expect(cache.get('k'.repeat(10 * 1024))).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
  });

  it('refuses a maxKeyBytes that is not a sane integer', () => {
    for (const maxKeyBytes of [0, -1, 1.5, 10_000_000]) {
      expect(() => createCache({ store: new Map(), maxKeyBytes })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
    }
  });

  it('stores unicode keys and keys with colons as distinct entries', async () => {
    const map = new Map<string, unknown>();
    const cache = track(createCache({ store: map, prefix: 'k' }));
    const keys = ['users:zoë', 'users:zoe', 'users:東京:1', 'users:🚀', 'a:b:c', 'a:b', 'a'];
    for (const [index, key] of keys.entries()) await cache.set(key, index);
    for (const [index, key] of keys.entries()) expect(await cache.get(key)).toBe(index);
    expect(map.has('k:users:zoë')).toBe(true);
    expect(map.has('k:users:🚀')).toBe(true);
  });

  it('keeps keys that differ only by Unicode normalisation apart (no silent folding)', async () => {
    const cache = track(createCache({ store: new Map(), prefix: 'k' }));
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    await cache.set(composed, 'composed');
    await cache.set(decomposed, 'decomposed');
    expect(await cache.get(composed)).toBe('composed');
    expect(await cache.get(decomposed)).toBe('decomposed');
  });
});

describe('escapeGlob', () => {
  it('escapes *, ?, [, ] and backslash, and nothing else', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(escapeGlob('plain:id-1_é')).toBe('plain:id-1_é');
    expect(escapeGlob('')).toBe('');
  });

  it('makes any text match itself and only itself', () => {
    const samples = ['a*b', 'a?b', '[abc]', '[^a]', 'a\\b', '\\', '*', '?', ']', 'x[', 'a-z', '^$.()+{}|'];
    for (const sample of samples) {
      const matcher = compileGlob(escapeGlob(sample));
      expect(matcher.test(sample)).toBe(true);
      expect(matcher.test(`${sample}x`)).toBe(false);
      const variant = sample.replace(/[*?[\]\\]/g, 'X');
      if (variant !== sample) expect(matcher.test(variant)).toBe(false);
    }
  });

  it('throws E_INVALID_PATTERN synchronously for a non-string', () => {
    const error = thrownBy(() => escapeGlob(42 as never));
    expect(isCacheError(error, 'E_INVALID_PATTERN')).toBe(true);
  });
});

describe('compileGlob (Redis stringmatchlen semantics)', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['orders:*', ['orders:', 'orders:1', 'orders:a:b:c'], ['order:1', 'xorders:1']],
    ['*', ['', 'anything:at:all'], []],
    ['a?c', ['abc', 'a:c'], ['ac', 'abbc', 'aéc']],
    ['a??c', ['aéc'], ['abc']], // é is two bytes of UTF-8, and ? matches one byte, as in Redis
    ['[abc]x', ['ax', 'bx', 'cx'], ['dx', 'x', 'abx']],
    ['[^a]x', ['bx', 'zx', ':x'], ['ax', 'x']],
    ['[a-c]1', ['a1', 'b1', 'c1'], ['d1', '-1']],
    ['[0-9][0-9]', ['00', '42'], ['4', 'a1']],
    ['[z-a]', ['m', 'a', 'z'], ['A', '-']], // a reversed range is swapped
    ['[]x', [], ['x', ']x', '[]x']], // an empty class matches nothing
    ['[]]x', [], [']x', ']]x']], // ... so `[]` then `]x`: never a match
    ['[^]x', ['ax', ']x'], ['x']], // a negated empty class matches any byte
    ['[a-]x]', ['a', ']', '_', 'x'], ['-', 'b', 'ax']], // `a-]` is a range (`]`..`a`); the class ends later
    ['a\\*b', ['a*b'], ['aXb', 'ab']],
    ['a\\?b', ['a?b'], ['aXb']],
    ['\\[x\\]', ['[x]'], ['x']],
    ['a\\\\b', ['a\\b'], ['ab']],
    ['[\\]]', [']'], ['\\']],
    ['a.b', ['a.b'], ['aXb']],
    ['(x)+', ['(x)+'], ['x', 'xx']],
    ['$^|{1}/', ['$^|{1}/'], ['']],
    ['line*', ['line\nbreak'], []],
    ['*a*b*c', ['abc', 'xaxbxc', 'aabbcc'], ['acb', 'ab', 'abcx']],
    ['**x', ['x', 'yx'], ['xy']],
  ];

  it.each(cases)('%s', (pattern, matching, notMatching) => {
    const matcher = compileGlob(pattern);
    for (const text of matching) expect(matcher.test(text), `${pattern} should match ${text}`).toBe(true);
    for (const text of notMatching)
      expect(matcher.test(text), `${pattern} should not match ${text}`).toBe(false);
  });

  it.each(['[', 'orders:[abc', 'a[', '[^', 'trailing\\'])('throws E_INVALID_PATTERN for %s', (pattern) => {
    const error = thrownBy(() => compileGlob(pattern));
    expect(isCacheError(error, 'E_INVALID_PATTERN')).toBe(true);
  });

  // A RegExp compiled from `*a*a...*b` backtracked exponentially: 3.3 s for this key. The matcher
  // retries only the last star, so its work is bounded by key length x pattern length. Counted in
  // steps, not timed, so a loaded machine cannot make this flaky.
  it('does work bounded by key length x pattern length on a pattern that makes a RegExp backtrack', () => {
    const pattern = `${'*a'.repeat(14)}*b`;
    const key = `redos:${'a'.repeat(30)}`;
    const matcher = compileGlob(pattern);
    expect(matcher.test(key)).toBe(false);
    expect(matcher.steps).toBeLessThanOrEqual(key.length * pattern.length);
    const long = compileGlob(`*${'a'.repeat(1_000)}b`);
    const subject = 'a'.repeat(2_000);
    expect(long.test(subject)).toBe(false);
    expect(long.steps).toBeLessThanOrEqual(subject.length * 1_002);
  });
});
