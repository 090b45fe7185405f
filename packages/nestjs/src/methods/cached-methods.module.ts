import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import { CacheError } from '@org/cache-core';
import { findCache } from '../cache-lookup.js';
import { DEFAULT_CACHE_NAME } from '../tokens.js';
import {
  CACHE_EVICT_METADATA,
  CACHED_METADATA,
  type CachedOptions,
  type CacheEvictOptions,
} from './decorators.js';
import { assertOneGlobalCachePerName } from './global-names.js';
import { cachingMethod, evictingMethod } from './wrap-method.js';

// Marks a method this module has wrapped, so a second explorer (or a second init) leaves it alone.
const wrapped = Symbol('@org/cache-nestjs:wrapped');

/**
 * At bootstrap, finds `@Cached`/`@CacheEvict` methods on singleton providers and controllers
 * through Nest's discovery and wraps them on their instance with their module's cache.
 */
@Injectable()
export class CachedMethodsExplorer implements OnModuleInit {
  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    assertOneGlobalCachePerName(this.discovery);
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string | symbol, unknown> | undefined;
      if (instance === undefined || instance === null || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance);
      if (prototype === null || prototype === Object.prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const original = instance[method];
        if (typeof original !== 'function' || (original as { [wrapped]?: true })[wrapped]) continue;
        const cached = this.reflector.get<CachedOptions | undefined>(CACHED_METADATA, original);
        const evict = this.reflector.get<CacheEvictOptions | undefined>(CACHE_EVICT_METADATA, original);
        if (cached === undefined && evict === undefined) continue;
        const where = `${prototype.constructor.name}.${method}`;
        if (cached !== undefined && evict !== undefined)
          throw new CacheError('E_INVALID_OPTION', `${where} has both @Cached and @CacheEvict: keep one`);
        if (!wrapper.isDependencyTreeStatic())
          throw new CacheError(
            'E_INVALID_OPTION',
            `${where}: @Cached/@CacheEvict need a singleton provider (this one is request- or transient-scoped)`,
          );
        const options = (cached ?? evict) as { cache?: string };
        const cache = findCache(this.moduleRef, wrapper.host, options.cache ?? DEFAULT_CACHE_NAME, where);
        const replacement =
          cached !== undefined
            ? cachingMethod(cache, original as never, cached)
            : evictingMethod(cache, original as never, evict as CacheEvictOptions);
        Object.defineProperty(replacement, wrapped, { value: true });
        Object.defineProperty(replacement, 'name', { value: original.name, configurable: true });
        instance[method] = replacement;
      }
    }
  }
}

/** Imported by every `CacheModule.forRoot`; Nest keeps one instance of it however many there are. */
@Module({ imports: [DiscoveryModule], providers: [CachedMethodsExplorer] })
export class CachedMethodsModule {}
