import type { Attributes } from '@opentelemetry/api';

/**
 * Attribute names shared by every metric and span. Bounded values only: the cache name, the
 * domain and bucket it was declared with, an outcome. Never a key or an id.
 */
export const ATTRIBUTE = {
  cache: 'cache.name',
  domain: 'domain',
  bucket: 'bucket',
  result: 'result',
  kind: 'kind',
  state: 'state',
  store: 'cache.store',
  operation: 'cache.operation',
} as const;

/** `domain` is left out for plain cache calls (the `default` bucket has none). */
export function bucketAttributes(cache: string, domain: string | undefined, bucket: string): Attributes {
  return domain === undefined
    ? { [ATTRIBUTE.cache]: cache, [ATTRIBUTE.bucket]: bucket }
    : { [ATTRIBUTE.cache]: cache, [ATTRIBUTE.domain]: domain, [ATTRIBUTE.bucket]: bucket };
}
