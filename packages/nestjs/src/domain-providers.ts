import type { Provider } from '@nestjs/common';
import {
  type BucketConfigs,
  type Cache,
  CacheError,
  type Domain,
  type DomainDefinition,
} from '@org/cache-core';
import { getCacheToken, getDomainToken } from './tokens.js';

// A domain is created once per cache: two feature modules listing the same definition share it.
const domainsByCache = new WeakMap<
  Cache,
  Map<string, { definition: DomainDefinition; domain: Domain<BucketConfigs> }>
>();

export function domainProviders(definitions: readonly DomainDefinition[], cacheName: string): Provider[] {
  if (!Array.isArray(definitions))
    throw new CacheError(
      'E_INVALID_OPTION',
      'CacheModule.forFeature() takes an array of defineDomain() definitions',
    );
  return definitions.map((definition, index) => {
    if (typeof definition?.name !== 'string' || typeof definition.buckets !== 'object')
      throw new CacheError(
        'E_INVALID_OPTION',
        `CacheModule.forFeature(): entry ${index} is not a domain definition (use defineDomain(name, { buckets }))`,
      );
    return {
      provide: getDomainToken(definition, cacheName),
      useFactory: (cache: Cache) => domainOf(cache, definition),
      inject: [getCacheToken(cacheName)],
    };
  });
}

function domainOf(cache: Cache, definition: DomainDefinition): Domain<BucketConfigs> {
  let domains = domainsByCache.get(cache);
  if (domains === undefined) {
    domains = new Map();
    domainsByCache.set(cache, domains);
  }
  const known = domains.get(definition.name);
  if (known !== undefined) {
    if (known.definition === definition) return known.domain;
    throw new CacheError(
      'E_INVALID_OPTION',
      `two different definitions of domain ${definition.name} on cache ${cache.prefix}: declare it once with defineDomain() and list that in every forFeature()`,
    );
  }
  const domain = cache.domain(definition.name, definition);
  domains.set(definition.name, { definition, domain });
  return domain;
}
