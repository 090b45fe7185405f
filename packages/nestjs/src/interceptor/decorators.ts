import { type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Duration } from '@org/cache-core';

export const CACHE_KEY_METADATA = '@org/cache-nestjs:http-key';
export const CACHE_TTL_METADATA = '@org/cache-nestjs:http-ttl';
export const CACHE_TAGS_METADATA = '@org/cache-nestjs:http-tags';

export type CacheKeyOption = string | ((context: ExecutionContext) => string | undefined);
export type CacheTagsOption = readonly string[] | ((context: ExecutionContext) => readonly string[]);

/** The cache key of a handler's response (default: `http:<url>`); a function of the request context may return `undefined` to skip caching. */
export const CacheKey = (key: CacheKeyOption) => SetMetadata(CACHE_KEY_METADATA, key);

/** How long a handler's response stays fresh (on the handler or the controller). Default: the cache's strategy. */
export const CacheTTL = (ttl: Duration) => SetMetadata(CACHE_TTL_METADATA, ttl);

/** Tags the cached response depends on, so `cache.invalidateTags()` drops it. */
export const CacheTags = (tags: CacheTagsOption) => SetMetadata(CACHE_TAGS_METADATA, tags);
