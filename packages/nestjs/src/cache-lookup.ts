import type { ModuleRef } from '@nestjs/core';
import type { Module } from '@nestjs/core/injector/module.js';
import {
  type BucketConfigs,
  type Cache,
  CacheError,
  type Domain,
  type DomainDefinition,
} from '@org/cache-core';
import { DEFAULT_CACHE_NAME, getCacheToken, getDomainToken } from './tokens.js';

/**
 * The cache named `name` as the module `host` sees it: its own, one an imported module exports,
 * or else a global one. So two modules with their own non-global `forRoot()` each get theirs.
 */
export function findCache(
  moduleRef: ModuleRef,
  host: Module | undefined,
  name: string,
  usedBy: string,
): Cache {
  const token = getCacheToken(name);
  const cache = findProvider<Cache>(moduleRef, host, token);
  if (cache.found) return cache.instance;
  throw new CacheError(
    'E_INVALID_OPTION',
    `${usedBy} uses the cache named '${name}', but no CacheModule.forRoot({ name: '${name}' }) provides it`,
    { cause: cache.error },
  );
}

/**
 * The domain registered with `CacheModule.forFeature()` on cache `cacheName`, looked up from
 * `host` the way `@InjectDomain` would resolve it there (own module, an import's exports, then
 * anywhere in the application: forFeature modules are not global).
 */
export function findDomain(
  moduleRef: ModuleRef,
  host: Module | undefined,
  domain: string | DomainDefinition,
  cacheName: string,
  usedBy: string,
): Domain<BucketConfigs> {
  const name = typeof domain === 'string' ? domain : domain.name;
  const found = findProvider<Domain<BucketConfigs>>(moduleRef, host, getDomainToken(domain, cacheName));
  if (found.found) return found.instance;
  throw new CacheError(
    'E_INVALID_OPTION',
    `${usedBy} uses domain '${name}' on the cache named '${cacheName}', but no CacheModule.forFeature([${name}]${cacheName === DEFAULT_CACHE_NAME ? '' : `, '${cacheName}'`}) registers it`,
    { cause: found.error },
  );
}

type Lookup<T> = { found: true; instance: T } | { found: false; error: unknown };

function findProvider<T>(moduleRef: ModuleRef, host: Module | undefined, token: string): Lookup<T> {
  if (host !== undefined) {
    const own = host.providers.get(token)?.instance;
    if (own) return { found: true, instance: own as T };
    for (const imported of host.imports) {
      const exported = imported.exports.has(token) ? imported.providers.get(token)?.instance : undefined;
      if (exported) return { found: true, instance: exported as T };
    }
  }
  try {
    return { found: true, instance: moduleRef.get<T>(token, { strict: false }) };
  } catch (error) {
    return { found: false, error };
  }
}
