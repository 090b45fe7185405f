import { SetMetadata } from '@nestjs/common';
import { CacheError, type Duration } from '@org/cache-core';

export const CACHED_METADATA = '@org/cache-nestjs:cached';
export const CACHE_EVICT_METADATA = '@org/cache-nestjs:cache-evict';

/**
 * The arguments of a decorated method. `CachedOptions<Args>` and `CacheEvictOptions<Args>` take
 * their `Args` from the `key`, `keys` or `tags` functions you write, so those stay typed.
 */
// biome-ignore lint/suspicious/noExplicitAny: the arguments of the decorated method, typed by the user's `key`.
export type AnyArgs = any[];

export interface CachedOptions<Args extends AnyArgs = AnyArgs> {
  /** The cache key of a call: `(id) => cacheKey('accounts', id)`, as `cache.memoize` takes it. */
  key: (...args: Args) => string;
  /** Overrides the cache's strategy for these entries. */
  ttl?: Duration;
  /** Tags the entry depends on, or a function of the arguments returning them. */
  tags?: readonly string[] | ((...args: Args) => readonly string[]);
  /** Which cache (a `forRoot` name). Default `'default'`. */
  cache?: string;
}

export interface CacheEvictOptions<Args extends AnyArgs = AnyArgs> {
  /** Keys to delete once the method has succeeded, from its arguments. */
  keys?: (...args: Args) => readonly string[];
  /** Tags to invalidate once the method has succeeded, from its arguments. */
  tags?: (...args: Args) => readonly string[];
  /** Which cache (a `forRoot` name). Default `'default'`. */
  cache?: string;
}

/**
 * What `@Cached` and `@CacheEvict` return: a method decorator that only accepts a method returning
 * a promise and whose leading parameters match the `Args` of the options (a `key: (id: string)`
 * on a method taking a number is a compile error).
 */
export type AsyncMethodDecorator<Args extends AnyArgs> = <
  M extends (...args: [...Args, ...AnyArgs]) => Promise<unknown>,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * Caches an async provider method's results through `getOrSet`: concurrent calls with one key
 * share one call (across processes on Redis, through its leases), and an invalidation during
 * the call wins. Wired when the application starts, for singleton providers.
 *
 * @example
 * @Cached({ key: (id: string) => cacheKey('accounts', id), ttl: '5m', tags: (id: string) => [`account:${id}`] })
 * async account(id: string): Promise<Account> { return this.api.account(id); }
 */
export function Cached<Args extends AnyArgs = AnyArgs>(
  options: CachedOptions<Args>,
): AsyncMethodDecorator<Args> {
  if (typeof options?.key !== 'function')
    throw new CacheError('E_INVALID_OPTION', '@Cached() needs { key: (...args) => string }');
  if (options.tags !== undefined && typeof options.tags !== 'function' && !Array.isArray(options.tags))
    throw new CacheError(
      'E_INVALID_OPTION',
      '@Cached() tags must be an array or a function of the arguments',
    );
  return (target, propertyKey, descriptor) => {
    SetMetadata(CACHED_METADATA, options)(target, propertyKey, descriptor);
  };
}

/**
 * Deletes keys and invalidates tags once the async method has succeeded (the write side of
 * `@Cached`). A failed invalidation rejects the call: the caller learns that readers may still
 * see the old value.
 *
 * @example
 * @CacheEvict({ keys: (id: string) => [cacheKey('accounts', id)], tags: (id: string) => [`account:${id}`] })
 * async rename(id: string, name: string): Promise<void> { await this.api.rename(id, name); }
 */
export function CacheEvict<Args extends AnyArgs = AnyArgs>(
  options: CacheEvictOptions<Args>,
): AsyncMethodDecorator<Args> {
  if (
    typeof options !== 'object' ||
    options === null ||
    (options.keys === undefined && options.tags === undefined)
  )
    throw new CacheError('E_INVALID_OPTION', '@CacheEvict() needs keys and/or tags');
  for (const field of ['keys', 'tags'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'function')
      throw new CacheError('E_INVALID_OPTION', `@CacheEvict() ${field} must be a function of the arguments`);
  }
  return (target, propertyKey, descriptor) => {
    SetMetadata(CACHE_EVICT_METADATA, options)(target, propertyKey, descriptor);
  };
}
