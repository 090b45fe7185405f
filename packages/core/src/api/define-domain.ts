import type { BucketConfigs, Domain, DomainConfig } from './domain.js';

/** A domain declared once, away from any cache: `cache.domain(definition.name, definition)` takes it. */
export type DomainDefinition<
  N extends string = string,
  B extends BucketConfigs = BucketConfigs,
> = DomainConfig<B> & {
  readonly name: N;
};

/** The `Domain` a definition becomes, bucket value types included. */
export type DomainOf<D> = D extends DomainDefinition<string, infer B> ? Domain<B> : never;

/**
 * Declares a domain (name, strategy, buckets) as a value, so framework integrations can create it
 * later and still know its bucket types: `DomainOf<typeof orders>`.
 *
 * @example
 * export const orders = defineDomain('orders', { buckets: { summaries: { schema: z.array(orderSummary) } } });
 * const domain = cache.domain(orders.name, orders); // Domain<{ summaries: ... }>
 */
export function defineDomain<const N extends string, B extends BucketConfigs>(
  name: N,
  config: DomainConfig<B>,
): DomainDefinition<N, B> {
  return Object.freeze({ ...config, name });
}
