import { randomBytes } from 'node:crypto';

/** Test data shared by the codec tests: keys, and one value of every JSON kind. */

export const KEY_A = randomBytes(32);
export const KEY_B = randomBytes(32);

/** Every kind of JSON value, falsy ones and unicode included: each must come back exactly. */
export const JSON_VALUES: Array<[string, unknown]> = [
  ['zero', 0],
  ['a negative float', -12.5],
  ['a large integer', Number.MAX_SAFE_INTEGER],
  ['the empty string', ''],
  ['a unicode string', 'Zoë · 東京 · 🎉 · \u2028'],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty array', []],
  ['an empty object', {}],
  ['a mixed array', [1, 'two', null, false, { three: [3] }]],
  [
    'a nested object',
    { id: '801Dn', total: 19.99, lines: [{ sku: 'A', qty: 2 }], meta: { tags: ['x'], note: null } },
  ],
  ['a 100 KB string', 'orders '.repeat(15_000)],
];

/** A ~100 KB page of orders: repetitive like real JSON, so it compresses like real JSON. */
export function bigPage(): { orders: Array<Record<string, unknown>> } {
  const statuses = ['shipped', 'processing', 'delivered', 'cancelled'];
  return {
    orders: Array.from({ length: 600 }, (_, index) => ({
      id: `801Dn0000${String(index).padStart(9, '0')}`,
      status: statuses[index % statuses.length],
      totalAmount: ((index * 37) % 5000) + 0.99,
      currency: 'EUR',
      effectiveDate: `2024-${String((index % 12) + 1).padStart(2, '0')}-10T08:30:00.000Z`,
    })),
  };
}

/** Flips one byte of an `enc1:<id>:<base64>` entry's body at `offset` (negative: from the end). */
export function flipByte(stored: string, offset: number): string {
  const separator = stored.indexOf(':', 'enc1:'.length);
  const body = Buffer.from(stored.slice(separator + 1), 'base64');
  const index = offset < 0 ? body.length + offset : offset;
  body[index] = (body[index] as number) ^ 0x01;
  return stored.slice(0, separator + 1) + body.toString('base64');
}
