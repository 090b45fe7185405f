import type { Availability, Bundle, OrderDetail, OrderSummary, Product } from '../schemas.js';
import {
  amountBetween,
  dayBefore,
  hashOf,
  integerBetween,
  pick,
  salesforceId,
  seededRandom,
} from './deterministic.js';

/**
 * The simulated Salesforce org: every valid id exists, and its data is derived from the id (and
 * from how many times the record changed), so every process and every run agrees on it.
 */

/** Accounts the CDC simulator changes and the start-up banner suggests. */
export const DEMO_ACCOUNTS = ['001ACME', '001GLOBEX', '001INITECH', '001UMBRELLA', '001STARK'] as const;
/** Products bundles are made of; `01tPROD01` .. `01tPROD12`. */
export const CATALOG_PRODUCTS = Array.from(
  { length: 12 },
  (_, index) => `01tPROD${String(index + 1).padStart(2, '0')}`,
);
/** Bundles the CDC simulator's product changes reach; any valid id is a bundle. */
export const DEMO_BUNDLES = ['0BNSTARTER', '0BNOFFICE', '0BNPRO', '0BNENTERPRISE'] as const;

/** How many times a record changed; part of every seed, so a change shows in the data. */
export type Revisions = (entity: 'Order' | 'Product2', id: string) => number;

const FAMILIES = ['Hardware', 'Software', 'Services', 'Support'] as const;
const STATUSES = ['Draft', 'Activated', 'Shipped', 'Cancelled'] as const;
const CITIES = ['Paris', 'Lyon', 'Berlin', 'Madrid', 'Lisbon', 'Dublin'] as const;

/** The ids of an account's orders (1 to 5 of them). */
export function orderIdsOf(accountId: string): string[] {
  const count = 1 + (hashOf(`${accountId}:orders`) % 5);
  return Array.from({ length: count }, (_, index) => salesforceId('801', `${accountId}:order:${index}`));
}

export function orderDetailOf(accountId: string, orderId: string, revisions: Revisions): OrderDetail {
  const revision = revisions('Order', orderId);
  const random = seededRandom(`${orderId}:r${revision}`);
  const stable = seededRandom(orderId);
  const lines = Array.from({ length: integerBetween(stable, 1, 3) }, () => {
    const product = productOf(pick(stable, CATALOG_PRODUCTS), revisions);
    return { productId: product.id, quantity: integerBetween(stable, 1, 10), unitPrice: product.unitPrice };
  });
  const totalAmount = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  return {
    id: orderId,
    accountId,
    orderNumber: String(hashOf(orderId) % 100_000_000).padStart(8, '0'),
    status: pick(random, STATUSES),
    totalAmount: Math.round(totalAmount * 100) / 100,
    currency: 'EUR',
    effectiveDate: dayBefore(hashOf(`${orderId}:date`) % 365),
    billingCity: pick(stable, CITIES),
    lines,
  };
}

export function orderSummariesOf(accountId: string, revisions: Revisions): OrderSummary[] {
  return orderIdsOf(accountId).map((orderId) => {
    const { billingCity: _city, lines: _lines, ...summary } = orderDetailOf(accountId, orderId, revisions);
    return summary;
  });
}

export function productOf(productId: string, revisions: Revisions): Product {
  const stable = seededRandom(productId);
  const price = seededRandom(`${productId}:r${revisions('Product2', productId)}`);
  const family = pick(stable, FAMILIES);
  return {
    id: productId,
    name: `${family} item ${productId.slice(-4)}`,
    family,
    unitPrice: amountBetween(price, 5, 900),
    currency: 'EUR',
    active: stable() > 0.1,
  };
}

/** The products of a bundle: 2 to 4 distinct ones from the catalog. */
export function bundleProductIdsOf(bundleId: string): string[] {
  const random = seededRandom(`${bundleId}:products`);
  const chosen = new Set<string>();
  const count = integerBetween(random, 2, 4);
  while (chosen.size < count) chosen.add(pick(random, CATALOG_PRODUCTS));
  return [...chosen];
}

export function bundleOf(bundleId: string, revisions: Revisions): Bundle {
  const random = seededRandom(bundleId);
  const items = bundleProductIdsOf(bundleId).map((productId) => ({
    product: productOf(productId, revisions),
    quantity: integerBetween(random, 1, 5),
  }));
  const total = items.reduce((sum, item) => sum + item.quantity * item.product.unitPrice, 0);
  return {
    id: bundleId,
    name: `Bundle ${bundleId.slice(3)}`,
    items,
    totalPrice: Math.round(total * 0.9 * 100) / 100,
    currency: 'EUR',
  };
}

/** Stock changes every minute: volatile data, hence the short hybrid TTL. */
export function availabilityOf(productId: string, revisions: Revisions, now: number): Availability {
  const minute = Math.floor(now / 60_000);
  const random = seededRandom(`${productId}:stock:${minute}`);
  const quantity = random() < 0.15 ? 0 : integerBetween(random, 1, 500);
  return {
    productId,
    inStock: quantity > 0,
    quantity,
    listPrice: productOf(productId, revisions).unitPrice,
    currency: 'EUR',
    asOf: new Date(minute * 60_000).toISOString(),
  };
}
