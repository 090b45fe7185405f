export { CacheModule } from './cache-module.js';
export { CacheHealthIndicator, type CacheHealthOptions } from './health/cache-health-indicator.js';
export { InjectCache, InjectDomain } from './inject.js';
export { CacheInterceptor } from './interceptor/cache-interceptor.js';
export {
  CacheKey,
  type CacheKeyOption,
  CacheTags,
  type CacheTagsOption,
  CacheTTL,
} from './interceptor/decorators.js';
export {
  type AnyArgs,
  type AsyncMethodDecorator,
  Cached,
  type CachedBucketOptions,
  type CachedKeyOptions,
  type CachedOptions,
  CacheEvict,
  type CacheEvictOptions,
} from './methods/decorators.js';
export type {
  CacheFactoryResult,
  CacheLoggingOptions,
  CacheModuleAsyncOptions,
  CacheModuleOptions,
} from './module-options.js';
export { DEFAULT_CACHE_NAME, getCacheToken, getDomainToken } from './tokens.js';
