import type { ModuleRef } from '@nestjs/core';
import type { Module } from '@nestjs/core/injector/module.js';
import { type Cache, CacheError } from '@org/cache-core';
import { getCacheToken } from './tokens.js';

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
  if (host !== undefined) {
    const own = host.providers.get(token)?.instance;
    if (own) return own as Cache;
    for (const imported of host.imports) {
      const exported = imported.exports.has(token) ? imported.providers.get(token)?.instance : undefined;
      if (exported) return exported as Cache;
    }
  }
  try {
    return moduleRef.get<Cache>(token, { strict: false });
  } catch (error) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${usedBy} uses the cache named '${name}', but no CacheModule.forRoot({ name: '${name}' }) provides it`,
      { cause: error },
    );
  }
}
