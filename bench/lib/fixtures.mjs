/**
 * The data every scenario uses: 100 keys, each holding a ~1 KB JSON page of order summaries (what a
 * BFF caches in front of Salesforce), and the check that a value read back is the right one.
 */

export const KEY_COUNT = 100;
const ORDERS_PER_PAGE = 5;
const STATUSES = ['shipped', 'processing', 'delivered', 'cancelled'];
const ACCOUNT_IDS = Array.from({ length: KEY_COUNT }, (_, index) => accountIdOf(index));

export function keyOf(index) {
  return `orders:summaries:${accountIdOf(index)}`;
}

export function accountIdOf(index) {
  return `001Dn000${String(index).padStart(7, '0')}`;
}

/** A fresh object each call (no shared strings beyond literals): a store holding it pays for all of it. */
export function orderPage(index, version = 0) {
  const accountId = accountIdOf(index);
  const orders = [];
  for (let n = 0; n < ORDERS_PER_PAGE; n++) {
    orders.push({
      id: `801Dn0000${String(index * ORDERS_PER_PAGE + n).padStart(9, '0')}`,
      orderNumber: `ORD-${String(index).padStart(6, '0')}-${n}`,
      status: STATUSES[(index + n) % STATUSES.length],
      totalAmount: Math.round((index * 37 + n * 101) % 5000) + 0.99,
      currency: 'EUR',
      effectiveDate: `2024-${String((n % 12) + 1).padStart(2, '0')}-1${n}T08:30:00.000Z`,
      itemCount: ((index + n) % 9) + 1,
    });
  }
  const accountName = `Northwind Trading ${String(index).padStart(7, '0')} GmbH`;
  return { accountId, accountName, version, page: 1, pageSize: ORDERS_PER_PAGE, totalSize: 42, orders };
}

/** True when `value` is the page for `index` at `version` (a field check, cheap enough for every op). */
export function isPageOf(value, index, version = 0) {
  return (
    value !== undefined &&
    value !== null &&
    value.accountId === (index < KEY_COUNT ? ACCOUNT_IDS[index] : accountIdOf(index)) &&
    value.version === version &&
    value.orders?.length === ORDERS_PER_PAGE
  );
}

export const KEYS = Array.from({ length: KEY_COUNT }, (_, index) => keyOf(index));
export const PAGES = Array.from({ length: KEY_COUNT }, (_, index) => orderPage(index));

/** Throws a verification error: a wrong or missing value fails the run, it is never a fast result. */
export function wrongValue(subject, what, value) {
  const shown = value === undefined ? 'undefined' : JSON.stringify(value)?.slice(0, 120);
  const error = new Error(`${subject}: ${what} returned a wrong or missing value: ${shown}`);
  error.verification = true;
  return error;
}
