import { SetMetadata } from '@nestjs/common';
import { type BucketId, CacheError, type DomainDefinition, type Duration } from '@org/cache-core';

export const CACHED_METADATA = '@org/cache-nestjs:cached';
export const CACHE_EVICT_METADATA = '@org/cache-nestjs:cache-evict';

/**
 * The arguments of a decorated method. `CachedOptions<Args>` and `CacheEvictOptions<Args>` take
 * their `Args` from the `key`, `keys` or `tags` functions you write, so those stay typed.
 */
// biome-ignore lint/suspicious/noExplicitAny: the arguments of the decorated method, typed by the user's `key`.
export type AnyArgs = any[];

/** `@Cached` with a cache key: the result goes through `cache.getOrSet(key(...args))`. */
export interface CachedKeyOptions<Args extends AnyArgs = AnyArgs> {
  /** The cache key of a call: `(id) => cacheKey('accounts', id)`, as `cache.memoize` takes it. */
  key: (...args: Args) => string;
  /** Overrides the cache's strategy for these entries. */
  ttl?: Duration;
  /** Tags the entry depends on, or a function of the arguments returning them. */
  tags?: readonly string[] | ((...args: Args) => readonly string[]);
  /** Which cache (a `forRoot` name). Default `'default'`. */
  cache?: string;
  domain?: never;
  bucket?: never;
  id?: never;
}

/**
 * `@Cached` in a domain bucket: the result goes through `bucket.getOrSet(id(...args))`, so the
 * bucket's strategy, schema and metrics apply, and the key is the bucket's
 * (`<domain>:<bucket>:<id>`). The domain must be registered with `CacheModule.forFeature()` on
 * `cache`, as for `@InjectDomain`; a missing domain or bucket stops the application's start-up.
 */
export interface CachedBucketOptions<
  Args extends AnyArgs = AnyArgs,
  D extends DomainDefinition | string = DomainDefinition | string,
> {
  /** The domain, as `@InjectDomain` takes it: its `defineDomain()` definition or its name. */
  domain: D;
  /** One of the domain's buckets; typed from the definition when `domain` is one. */
  bucket: D extends DomainDefinition<string, infer B> ? keyof B & string : string;
  /** The bucket id of a call: `(accountId: string) => accountId`, or an array for subkeys. */
  id: (...args: Args) => BucketId;
  /** Overrides the bucket's strategy for these entries. */
  ttl?: Duration;
  /** Tags the entry depends on, or a function of the arguments returning them. */
  tags?: readonly string[] | ((...args: Args) => readonly string[]);
  /** The cache the domain is registered on (`forFeature(domains, cacheName)`). Default `'default'`. */
  cache?: string;
  key?: never;
}

/** The options of `@Cached`: a cache `key`, or a `domain`, `bucket` and `id`. */
export type CachedOptions<Args extends AnyArgs = AnyArgs> =
  | CachedKeyOptions<Args>
  | CachedBucketOptions<Args>;

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
 *
 * @example
 * // in the `byId` bucket of a domain registered with CacheModule.forFeature([accountsDomain])
 * @Cached({ domain: accountsDomain, bucket: 'byId', id: (id: string) => id })
 * async account(id: string): Promise<Account> { return this.api.account(id); }
 */
export function Cached<Args extends AnyArgs = AnyArgs, const D extends DomainDefinition | string = string>(
  options: CachedKeyOptions<Args> | CachedBucketOptions<Args, D>,
): AsyncMethodDecorator<Args> {
  assertCachedTarget(options);
  if (options.tags !== undefined && typeof options.tags !== 'function' && !Array.isArray(options.tags))
    throw new CacheError(
      'E_INVALID_OPTION',
      '@Cached() tags must be an array or a function of the arguments',
    );
  return (target, propertyKey, descriptor) => {
    SetMetadata(CACHED_METADATA, options)(target, propertyKey, descriptor);
  };
}

/** Exactly one of a `key`, or a `domain` + `bucket` + `id`: checked when the class is declared. */
function assertCachedTarget(options: unknown): void {
  const given = (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
  const inBucket = given.domain !== undefined || given.bucket !== undefined || given.id !== undefined;
  if (!inBucket) {
    if (typeof given.key !== 'function')
      throw new CacheError(
        'E_INVALID_OPTION',
        '@Cached() needs { key: (...args) => string } or { domain, bucket, id: (...args) => id }',
      );
    return;
  }
  if (given.key !== undefined)
    throw new CacheError(
      'E_INVALID_OPTION',
      '@Cached() takes a key or a domain bucket, not both: in a bucket, id gives the entry (<domain>:<bucket>:<id>)',
    );
  const domainName =
    typeof given.domain === 'string' ? given.domain : (given.domain as { name?: unknown })?.name;
  if (typeof domainName !== 'string' || domainName === '')
    throw new CacheError(
      'E_INVALID_OPTION',
      '@Cached() domain must be a defineDomain() definition or a domain name',
    );
  if (typeof given.bucket !== 'string' || given.bucket === '')
    throw new CacheError('E_INVALID_OPTION', `@Cached() in domain ${domainName} needs bucket: a bucket name`);
  if (typeof given.id !== 'function')
    throw new CacheError(
      'E_INVALID_OPTION',
      `@Cached() in bucket ${domainName}.${given.bucket} needs id: (...args) => a bucket id`,
    );
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
