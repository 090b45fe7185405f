import type { Bucket, BucketId, Cache, Duration } from '@org/cache-core';
import type { CachedBucketOptions, CachedKeyOptions, CacheEvictOptions } from './decorators.js';

type AsyncMethod = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** The method through `cache.getOrSet(options.key(...args), ...)`. */
export function cachingMethod(cache: Cache, original: AsyncMethod, options: CachedKeyOptions): AsyncMethod {
  return throughGetOrSet(
    options.key,
    (key, fetch, request) => cache.getOrSet(key, fetch, request),
    original,
    options,
  );
}

/** The method through `bucket.getOrSet(options.id(...args), ...)`: the bucket's strategy, schema and metrics. */
export function bucketCachingMethod(
  bucket: Bucket<unknown>,
  original: AsyncMethod,
  options: CachedBucketOptions,
): AsyncMethod {
  return throughGetOrSet(
    options.id,
    (id, fetch, request) => bucket.getOrSet(id, fetch, request),
    original,
    options,
  );
}

type Request = { ttl?: Duration; tags?: readonly string[] };

function throughGetOrSet<K extends string | BucketId>(
  target: (...args: unknown[]) => K,
  getOrSet: (target: K, fetch: () => Promise<unknown>, request: Request) => Promise<unknown>,
  original: AsyncMethod,
  { ttl, tags }: Pick<CachedKeyOptions, 'ttl' | 'tags'>,
): AsyncMethod {
  return function cached(this: unknown, ...args: unknown[]) {
    try {
      const callTags = typeof tags === 'function' ? tags(...args) : tags;
      return getOrSet(target(...args), () => original.apply(this, args), {
        ...(ttl === undefined ? {} : { ttl }),
        ...(callTags === undefined ? {} : { tags: callTags }),
      });
    } catch (error) {
      // A key or tags function that throws is the caller's error, reported as the call's rejection.
      return Promise.reject(error);
    }
  };
}

/** The method, then (only if it succeeded) its keys deleted and tags invalidated. */
export function evictingMethod(cache: Cache, original: AsyncMethod, options: CacheEvictOptions): AsyncMethod {
  const { keys, tags } = options;
  return async function evicting(this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    const keysToDelete = keys?.(...args) ?? [];
    const tagsToInvalidate = tags?.(...args) ?? [];
    await Promise.all([
      keysToDelete.length > 0 ? cache.deleteMany(keysToDelete) : undefined,
      tagsToInvalidate.length > 0 ? cache.invalidateTags(tagsToInvalidate) : undefined,
    ]);
    return result;
  };
}
