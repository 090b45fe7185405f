import type { DomainDefinition } from '@org/cache-core';

/** The name of the cache `CacheModule.forRoot()` creates when none is given. */
export const DEFAULT_CACHE_NAME = 'default';

const TOKEN_PREFIX = '@org/cache-nestjs';

/**
 * The injection token of a named cache: `moduleRef.get(getCacheToken('orders'))`, or in tests
 * `.overrideProvider(getCacheToken('orders')).useValue(testCache)`.
 */
export function getCacheToken(name: string = DEFAULT_CACHE_NAME): string {
  return `${TOKEN_PREFIX}:cache:${name}`;
}

/** The injection token of a domain provided by `CacheModule.forFeature()` on a named cache. */
export function getDomainToken(
  domain: string | DomainDefinition,
  cacheName: string = DEFAULT_CACHE_NAME,
): string {
  const name = typeof domain === 'string' ? domain : domain.name;
  return `${TOKEN_PREFIX}:domain:${cacheName}:${name}`;
}

/** @internal The provider that closes a cache the module created, on application shutdown. */
export function cacheOwnerToken(name: string): string {
  return `${TOKEN_PREFIX}:owner:${name}`;
}
