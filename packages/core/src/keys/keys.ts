import { CacheError } from '../errors.js';
import { compileGlob } from './glob.js';

/** Separates the segments of a key: `domain:type:identifier[:subkey]`. */
export const KEY_SEPARATOR = ':';
/** Default upper bound on a key (as passed, without the cache prefix), in bytes of UTF-8. */
export const DEFAULT_MAX_KEY_BYTES = 2048;

export type KeySegment = string | number;

// C0 and C1 control characters and DEL: invisible in logs and redis-cli, and a classic way to
// smuggle one tenant's id into another's key. Matching them is the point of this expression.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what we refuse
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacter(text: string): boolean {
  return controlCharacter.test(text);
}

/**
 * Joins segments into a key, refusing empty segments and control characters.
 *
 * @example cacheKey('orders', 'summaries', sfAccountId) // 'orders:summaries:001xx'
 */
export function cacheKey(...segments: KeySegment[]): string {
  if (segments.length === 0) throw new CacheError('E_INVALID_KEY', 'cacheKey() needs at least one segment');
  const parts = segments.map((segment, index) => {
    if (typeof segment === 'number') {
      if (!Number.isFinite(segment)) {
        throw new CacheError('E_INVALID_KEY', `key segment ${index} is not a finite number: ${segment}`);
      }
      return String(segment);
    }
    if (typeof segment !== 'string') {
      throw new CacheError(
        'E_INVALID_KEY',
        `key segment ${index} must be a string or number, got ${typeof segment}`,
      );
    }
    return segment;
  });
  const key = parts.join(KEY_SEPARATOR);
  assertValidKey(key);
  return key;
}

/**
 * Throws E_INVALID_KEY unless `key` is a non-empty string of non-empty segments with no control
 * characters and at most `maxBytes` of UTF-8.
 */
export function assertValidKey(key: unknown, maxBytes = DEFAULT_MAX_KEY_BYTES): asserts key is string {
  if (typeof key !== 'string') {
    throw new CacheError(
      'E_INVALID_KEY',
      `a key must be a string, got ${key === null ? 'null' : typeof key}`,
    );
  }
  if (key.length === 0) throw new CacheError('E_INVALID_KEY', 'a key must not be empty');
  const problem = keyProblem(key);
  if (problem !== undefined)
    throw new CacheError('E_INVALID_KEY', `${problem}: ${JSON.stringify(key)}`, { key });
  // Byte length only matters for long keys; the UTF-8 length is at most 3x the UTF-16 length.
  if (key.length * 3 > maxBytes && Buffer.byteLength(key, 'utf8') > maxBytes) {
    throw new CacheError('E_INVALID_KEY', `key is longer than ${maxBytes} bytes of UTF-8`, {
      key: `${key.slice(0, 64)}...`,
    });
  }
}

const COLON = 0x3a;

/**
 * One pass over the key (it runs on every call, so no regular expressions): control characters,
 * lone surrogates (they become U+FFFD in UTF-8 stores, so two ids would share one key) and empty
 * segments (`a::b` would collide with internal keys, which live after a double separator).
 */
function keyProblem(key: string): string | undefined {
  let previous = COLON; // a leading ':' is an empty first segment
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return 'key contains a control character';
    if (code === COLON && previous === COLON) return 'key has an empty segment';
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = key.charCodeAt(index + 1);
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return 'key contains a lone UTF-16 surrogate';
      index++;
    }
    previous = code;
  }
  return previous === COLON ? 'key has an empty segment' : undefined;
}

/**
 * Makes untrusted text literal inside a glob pattern: `*`, `?`, `[`, `]` and `\` are escaped.
 *
 * @example cache.deleteByPattern(`orders:${escapeGlob(accountId)}:*`)
 */
export function escapeGlob(text: string): string {
  if (typeof text !== 'string') throw new CacheError('E_INVALID_PATTERN', 'escapeGlob() takes a string');
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Throws E_INVALID_PATTERN for an empty pattern, control characters or an unterminated class. */
export function assertValidPattern(
  pattern: unknown,
  maxBytes = DEFAULT_MAX_KEY_BYTES,
): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new CacheError('E_INVALID_PATTERN', 'a pattern must be a non-empty string');
  }
  if (controlCharacter.test(pattern)) {
    throw new CacheError(
      'E_INVALID_PATTERN',
      `pattern contains a control character: ${JSON.stringify(pattern)}`,
    );
  }
  if (Buffer.byteLength(pattern, 'utf8') > maxBytes) {
    throw new CacheError('E_INVALID_PATTERN', `pattern is longer than ${maxBytes} bytes of UTF-8`);
  }
  compileGlob(pattern);
}
