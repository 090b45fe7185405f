import { Global, Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { CacheError } from '@org/cache-core';
import { findCache, findDomain } from '../cache-lookup.js';
import { CacheHealthIndicator } from '../health/cache-health-indicator.js';
import { DEFAULT_CACHE_NAME } from '../tokens.js';
import {
  CACHE_EVICT_METADATA,
  CACHED_METADATA,
  type CachedBucketOptions,
  type CachedOptions,
  type CacheEvictOptions,
} from './decorators.js';
import { assertOneGlobalCachePerName } from './global-names.js';
import { bucketCachingMethod, cachingMethod, evictingMethod } from './wrap-method.js';

// Marks a method this module has wrapped, so a second explorer (or a second init) leaves it alone.
const wrapped = Symbol('@org/cache-nestjs:wrapped');

/**
 * At bootstrap (`onModuleInit`, which Nest runs first for this global module), finds
 * `@Cached`/`@CacheEvict` methods on singleton providers through Nest's discovery and wraps them
 * on their instance with the cache their module sees.
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
    for (const wrapper of this.discovery.getProviders()) this.#wrapMethods(wrapper, 'provider');
    // Nest routes to a controller's prototype method, not to its instance: a wrapper there would
    // never run, so refuse instead of silently not caching.
    for (const wrapper of this.discovery.getControllers()) this.#wrapMethods(wrapper, 'controller');
  }

  #wrapMethods(wrapper: InstanceWrapper, kind: 'provider' | 'controller'): void {
    const instance = wrapper.instance as Record<string | symbol, unknown> | undefined;
    if (instance === undefined || instance === null || typeof instance !== 'object') return;
    const prototype = Object.getPrototypeOf(instance);
    if (prototype === null || prototype === Object.prototype) return;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const original = instance[method];
      if (typeof original !== 'function' || (original as { [wrapped]?: true })[wrapped]) continue;
      const cached = this.reflector.get<CachedOptions | undefined>(CACHED_METADATA, original);
      const evict = this.reflector.get<CacheEvictOptions | undefined>(CACHE_EVICT_METADATA, original);
      if (cached === undefined && evict === undefined) continue;
      const where = `${prototype.constructor.name}.${method}`;
      if (kind === 'controller')
        throw new CacheError(
          'E_INVALID_OPTION',
          `${where}: @Cached/@CacheEvict work on providers; on a controller use CacheInterceptor, or move the method to a service`,
        );
      if (cached !== undefined && evict !== undefined)
        throw new CacheError('E_INVALID_OPTION', `${where} has both @Cached and @CacheEvict: keep one`);
      if (!wrapper.isDependencyTreeStatic())
        throw new CacheError(
          'E_INVALID_OPTION',
          `${where}: @Cached/@CacheEvict need a singleton provider (this one is request- or transient-scoped)`,
        );
      const cacheName = (cached ?? evict)?.cache ?? DEFAULT_CACHE_NAME;
      const replacement =
        cached?.bucket !== undefined
          ? bucketCachingMethod(this.#bucket(wrapper, cached, cacheName, where), original as never, cached)
          : cached !== undefined
            ? cachingMethod(
                findCache(this.moduleRef, wrapper.host, cacheName, where),
                original as never,
                cached,
              )
            : evictingMethod(
                findCache(this.moduleRef, wrapper.host, cacheName, where),
                original as never,
                evict as CacheEvictOptions,
              );
      Object.defineProperty(replacement, wrapped, { value: true });
      Object.defineProperty(replacement, 'name', { value: original.name, configurable: true });
      instance[method] = replacement;
    }
  }

  /** The bucket a `@Cached({ domain, bucket })` names; a missing domain or bucket stops the start-up. */
  #bucket(wrapper: InstanceWrapper, options: CachedBucketOptions, cacheName: string, where: string) {
    const domain = findDomain(this.moduleRef, wrapper.host, options.domain, cacheName, where);
    const bucket = Object.hasOwn(domain.buckets, options.bucket) ? domain.buckets[options.bucket] : undefined;
    if (bucket === undefined)
      throw new CacheError(
        'E_INVALID_OPTION',
        `${where} uses bucket '${options.bucket}' of domain '${domain.name}', which has none by that name (its buckets: ${Object.keys(domain.buckets).join(', ')})`,
      );
    return bucket;
  }
}

/**
 * Imported by every `CacheModule.forRoot`; Nest keeps one instance of it however many there are.
 * Global so that its `onModuleInit` runs before other modules' (Nest orders hooks by distance and
 * puts global modules first): a provider's own `onModuleInit` already calls wrapped methods.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  // The health indicator too: an app injects it without listing it (or lists it in its providers).
  providers: [CachedMethodsExplorer, CacheHealthIndicator],
  exports: [CacheHealthIndicator],
})
export class CachedMethodsModule {}
