import fc from 'fast-check';

/**
 * Generators for the property tests: text that is hard on keys and patterns. Characters are
 * drawn mostly from glob metacharacters, the key separator, multi-byte UTF-8 (2, 3 and 4 bytes)
 * and a few letters, so collisions, escapes and byte-level matching are exercised, with any
 * printable grapheme now and then.
 */
const hardCharacter = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('*', '?', '[', ']', '^', '-', '\\', 'a', 'b', 'é', '東', '😀') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what keys refuse
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/** One key segment: no `:`, no control character, not empty. */
export const segment = fc
  .string({ unit: hardCharacter, minLength: 1, maxLength: 8 })
  .filter((text) => !text.includes(':') && !controlCharacter.test(text));

/** A bucket id: a segment, an integer, or an array of them (subkeys). */
export const bucketId = fc.oneof(
  segment,
  fc.integer(),
  fc.array(fc.oneof(segment, fc.integer()), { minLength: 1, maxLength: 3 }),
);

/** The key segments an id stands for. */
export function segmentsOf(id: string | number | ReadonlyArray<string | number>): string[] {
  return (Array.isArray(id) ? id : [id]).map(String);
}

/** A whole key (`a:b:c`): 1 to 3 segments. */
export const key = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => segments.join(':'));
