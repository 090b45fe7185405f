import { isCacheError } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { describe, expect, it } from 'vitest';

function optionError(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error('expected memoryStore() to throw');
}

describe('memoryStore options', () => {
  it.each([
    ['a negative maxEntries', { maxEntries: -1 }],
    ['a fractional maxEntries', { maxEntries: 1.5 }],
    ['a NaN maxEntries', { maxEntries: Number.NaN }],
    ['a string maxEntries', { maxEntries: '100' }],
    ['a maxEntries above one Map', { maxEntries: 16_777_217 }],
    ['a negative ttl', { ttl: -1 }],
    ['an unparsable ttl', { ttl: 'soon' }],
    ['an infinite ttl', { ttl: Number.POSITIVE_INFINITY }],
    ['a negative checkInterval', { checkInterval: -5 }],
    ['a checkInterval setInterval cannot honour', { checkInterval: '30d' }],
    ["cacheable's useClone", { useClone: true }],
    ["cacheable's lruSize", { lruSize: 10 }],
    ['a typo', { maxEntry: 10 }],
  ])('refuses %s with E_INVALID_OPTION', (_, options) => {
    const error = optionError(() => memoryStore(options as never));
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
  });

  it.each([null, 'big', 10])('refuses %s as the options object', (options) => {
    const error = optionError(() => memoryStore(options as never));
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true);
  });

  it('names the offending option in the message', () => {
    expect(() => memoryStore({ maxEntries: -1 })).toThrow(/maxEntries/);
    expect(() => memoryStore({ useClone: false } as never)).toThrow(/useClone/);
  });

  it('accepts durations as strings or milliseconds and the largest bound', () => {
    expect(memoryStore({ ttl: '90s', checkInterval: 500, maxEntries: 16_777_216 }).opts).toMatchObject({
      ttl: 90_000,
      checkInterval: 500,
      maxEntries: 16_777_216,
    });
    expect(memoryStore({ ttl: 0, checkInterval: 0 }).opts).toMatchObject({
      ttl: undefined,
      checkInterval: 0,
    });
  });
});
