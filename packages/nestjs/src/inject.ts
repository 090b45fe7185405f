import { Inject } from '@nestjs/common';
import type { DomainDefinition } from '@org/cache-core';
import { getCacheToken, getDomainToken } from './tokens.js';

/**
 * Injects a named cache (default `'default'`).
 *
 * @example
 * constructor(@InjectCache('catalog') private readonly cache: Cache) {}
 */
export function InjectCache(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getCacheToken(name));
}

/**
 * Injects a domain registered with `CacheModule.forFeature()`. Type the parameter with
 * `DomainOf<typeof definition>` and its buckets carry their schemas' value types.
 *
 * @example
 * constructor(@InjectDomain(orders) private readonly orders: DomainOf<typeof orders>) {}
 */
export function InjectDomain(
  domain: string | DomainDefinition,
  cacheName?: string,
): PropertyDecorator & ParameterDecorator {
  return Inject(getDomainToken(domain, cacheName));
}
