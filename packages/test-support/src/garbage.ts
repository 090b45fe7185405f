import fc from 'fast-check';

/**
 * What a foreign writer might leave under an entry key, for the decoding property tests of every
 * store: any text (lone surrogates included), JSON of any shape, JSON nested deeper than a
 * recursive walk survives (with and without `__proto__`, which core scrubs with such a walk),
 * envelope look-alikes, and non-string values; and valid envelopes broken one field at a time.
 */

/** JSON nested 5,000 to 15,000 levels deep, closed or cut off. */
export const deepJson: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 5_000, max: 15_000 }), fc.constantFrom('[', '{"__proto__":'), fc.boolean())
  .map(([depth, open, closed]) => {
    const close = open === '[' ? ']' : '}';
    return `${open.repeat(depth)}1${closed ? close.repeat(depth) : ''}`;
  });

/** An object with some of an envelope's fields, each valid or any JSON. */
export const envelopeLike = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.jsonValue()),
    value: fc.jsonValue(),
    createdAt: fc.oneof(fc.integer(), fc.jsonValue()),
    freshUntil: fc.oneof(fc.constant(null), fc.integer(), fc.jsonValue()),
    livesUntil: fc.oneof(fc.constant(null), fc.integer(), fc.jsonValue()),
    tags: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

/** (`undefined` and `null` are not garbage: keyv stores answer them for "nothing stored".) */
export const storedGarbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify({ v: 1, value })),
  deepJson,
  envelopeLike.map((candidate) => JSON.stringify(candidate)),
  envelopeLike,
  fc
    .anything({
      maxDepth: 3,
      withNullPrototype: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withBigInt: true,
    })
    .filter((value) => value !== undefined && value !== null),
);

const instant = fc.integer({ min: Date.now() + 3_600_000, max: Date.now() + 7_200_000 });

/** A valid, fresh envelope (as core would write it), before breaking it. */
const validEnvelope = fc
  .oneof(
    fc.record({ freshUntil: fc.constant(null), livesUntil: fc.constant(null) }),
    fc
      .tuple(instant, fc.nat({ max: 60_000 }))
      .map(([freshUntil, grace]) => ({ freshUntil, livesUntil: freshUntil + grace })),
  )
  .chain((lifetime) =>
    fc
      .record({ v: fc.constant(1), value: fc.jsonValue(), createdAt: fc.constant(Date.now()) })
      .map((rest) => ({
        ...rest,
        ...lifetime,
      })),
  );

const notANumber = fc.oneof(fc.string(), fc.boolean(), fc.constant({}), fc.constant([]));

/**
 * One field of a valid envelope broken in a way the envelope rules refuse: a missing or other
 * version, no value, a non-numeric time, a lifetime no writer produces (no end of life after a
 * finite fresh window, an end of life before it), tags that are not a record of string tokens.
 */
export const brokenEnvelope: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    validEnvelope,
    fc.oneof(
      fc.constant({ drop: 'v' }),
      fc.constant({ drop: 'value' }),
      fc.constant({ drop: 'createdAt' }),
      fc.constant({ drop: 'freshUntil' }),
      fc.constant({ drop: 'livesUntil' }),
      fc
        .oneof(fc.integer(), fc.string(), fc.constant(null))
        .filter((v) => v !== 1)
        .map((v) => ({ set: { v } })),
      notANumber.map((createdAt) => ({ set: { createdAt } })),
      notANumber.map((freshUntil) => ({ set: { freshUntil } })),
      notANumber.map((livesUntil) => ({ set: { livesUntil } })),
      instant.map((freshUntil) => ({ set: { freshUntil, livesUntil: null } })),
      instant.map((freshUntil) => ({ set: { freshUntil, livesUntil: freshUntil - 1 } })),
      fc.constant({ set: { value: undefined } }),
      fc
        .oneof(fc.string(), fc.integer(), fc.array(fc.string()), fc.constant(null))
        .map((tags) => ({ set: { tags } })),
      fc
        .tuple(
          fc.string().filter((tag) => tag !== '__proto__'),
          fc.oneof(fc.integer(), fc.constant(null), fc.constant({})),
        )
        .map(([tag, token]) => ({ set: { tags: { [tag]: token } } })),
    ),
  )
  .map(([envelope, breakage]) => {
    const broken: Record<string, unknown> = { ...envelope };
    if ('drop' in breakage) delete broken[breakage.drop];
    else Object.assign(broken, breakage.set);
    return broken;
  });
