import { type DynamicModule, Module } from '@nestjs/common';
import { CacheError, type DomainDefinition } from '@org/cache-core';
import { cacheProviders } from './cache-providers.js';
import { domainProviders } from './domain-providers.js';
import { CachedMethodsModule } from './methods/cached-methods.module.js';
import type { CacheModuleAsyncOptions, CacheModuleOptions } from './module-options.js';
import { DEFAULT_CACHE_NAME, getCacheToken } from './tokens.js';

/**
 * Caches for a Nest application. Each `forRoot` creates one named cache (its own `Cache`, never
 * shared with another name or another module), closed when the application shuts down.
 *
 * @example
 * @Module({
 *   imports: [
 *     CacheModule.forRoot({ store: memoryStore(), prefix: 'bff' }),
 *     CacheModule.forRootAsync({ name: 'catalog', inject: [ConfigService], useFactory: (config) => ({ store: redisStore({ url: config.get('REDIS_URL') }), prefix: 'catalog' }) }),
 *     CacheModule.forFeature([orders]),
 *   ],
 * })
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with static factories.
export class CacheModule {
  static forRoot(options: CacheModuleOptions): DynamicModule {
    if (typeof options !== 'object' || options === null)
      throw new CacheError('E_INVALID_OPTION', 'CacheModule.forRoot() needs options ({ store, ... })');
    const { name = DEFAULT_CACHE_NAME, isGlobal = true, ...cacheOptions } = options;
    return rootModule(name, isGlobal, [], () => cacheOptions, []);
  }

  static forRootAsync(options: CacheModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function')
      throw new CacheError('E_INVALID_OPTION', 'CacheModule.forRootAsync() needs useFactory');
    const { name = DEFAULT_CACHE_NAME, isGlobal = true, imports = [], inject = [], useFactory } = options;
    return rootModule(name, isGlobal, imports, useFactory, inject);
  }

  /**
   * Provides domains (from `defineDomain()`) of a named cache as injectables:
   * `@InjectDomain(orders) orders: DomainOf<typeof orders>`. The cache must be global (the default).
   */
  static forFeature(
    domains: readonly DomainDefinition[],
    cacheName: string = DEFAULT_CACHE_NAME,
  ): DynamicModule {
    const providers = domainProviders(domains, assertName(cacheName));
    return {
      module: CacheModule,
      providers,
      exports: providers.map((provider) => (provider as { provide: string }).provide),
    };
  }
}

function rootModule(
  name: string,
  isGlobal: boolean,
  imports: NonNullable<CacheModuleAsyncOptions['imports']>,
  factory: CacheModuleAsyncOptions['useFactory'],
  inject: NonNullable<CacheModuleAsyncOptions['inject']>,
): DynamicModule {
  return {
    module: CacheModule,
    global: isGlobal,
    imports: [...imports, CachedMethodsModule],
    providers: cacheProviders(assertName(name), factory, inject),
    exports: [getCacheToken(name)],
  };
}

function assertName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new CacheError(
      'E_INVALID_OPTION',
      `a cache name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  return name;
}
