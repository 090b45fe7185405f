import type { ZodType, z } from 'zod';
import { type FreshnessOptions, type FreshnessSettings, resolveFreshness } from '../config/freshness.js';
import { createScope, type Scope } from '../config/scope.js';
import type { Strategy } from '../config/strategies.js';
import { CacheError } from '../errors.js';
import type { BatchFetcher } from '../flight/batch-result.js';
import type { CacheContext } from '../flight/context.js';
import { getOrSet } from '../flight/get-or-set.js';
import type { Fetcher } from '../flight/types.js';
import { cacheKey, escapeGlob, type KeySegment } from '../keys/keys.js';
import { publish } from '../observe/events.js';
import type { BucketMetrics, BucketStats } from '../observe/metrics.js';
import { getManyOrSetValues } from './many-or-set.js';
import {
  type GetOrSetOptions,
  invalidateKeys,
  invalidateTags,
  readValue,
  resolveWrite,
  type SetOptions,
  writeValue,
} from './operations.js';
import { deleteByPattern, storePatternOf } from './pattern-ops.js';

/** `grace`, `fetchTimeout`, `softTimeout` and `eagerRefresh` override the domain's. */
export interface BucketConfig<S extends ZodType = ZodType> extends FreshnessOptions {
  /** Parses values on the way in (unknown fields stripped) and out (a failing entry is a counted miss). */
  schema?: S;
  /** Overrides the domain's strategy. */
  strategy?: Strategy;
}

export type BucketConfigs = Record<string, BucketConfig>;

/** `grace`, `fetchTimeout`, `softTimeout` and `eagerRefresh` default to the cache's. */
export interface DomainConfig<B extends BucketConfigs> extends FreshnessOptions {
  /** Default strategy of the domain's buckets. Defaults to the cache's. */
  strategy?: Strategy;
  buckets: B;
}

/** A bucket's value type: its schema's output, or `unknown` (each call then infers its own). */
export type BucketValue<C> = C extends { schema: infer S extends ZodType } ? z.output<S> : unknown;

/**
 * What a bucket call returns: the schema's output type when the bucket has a schema (the fetcher's
 * extra fields are stripped at run time), otherwise whatever the caller's type parameter says.
 */
export type Resolved<T, V> = unknown extends T ? V : T;

/** `'001'`, `42`, or `['acc_001', 'jp']` for subkeys (`orders:summaries:acc_001:jp`). */
export type BucketId = KeySegment | readonly KeySegment[];

/** The ids a batch fetcher gets: `string[]` for `['a', 'b']`, not `('a' | 'b')[]`. */
export type WidenedId<I> = I extends string ? string : I extends number ? number : I;

const namePattern = /^[A-Za-z0-9_.-]+$/;

/** One kind of entry in a domain: keys `domain:bucket:id[:subkey]`, with its own strategy and metrics. */
export class Bucket<T> {
  readonly #context: CacheContext;
  readonly #scope: Scope;
  readonly #prefix: string;

  /** @internal Buckets are made by `Domain`; the context and scope are the cache's internals. */
  constructor(
    context: CacheContext,
    readonly domain: string,
    readonly name: string,
    scope: Scope,
  ) {
    this.#context = context;
    this.#scope = scope;
    this.#prefix = `${domain}:${name}`;
  }

  /** The key (without the cache prefix) an id maps to. Throws E_INVALID_KEY for a bad id. */
  key(id: BucketId): string {
    const segments = Array.isArray(id) ? id : [id as KeySegment];
    if (segments.length === 0)
      throw new CacheError('E_INVALID_KEY', `bucket ${this.#prefix}: an id array needs at least one segment`);
    return cacheKey(this.domain, this.name, ...segments);
  }

  get<V = T>(id: BucketId): Promise<Resolved<T, V> | undefined> {
    return readValue(this.#context, this.#scope, () => this.#fullKey(id)) as Promise<
      Resolved<T, V> | undefined
    >;
  }

  async set<V extends T = T>(id: BucketId, value: V, options?: SetOptions<V>): Promise<void> {
    await writeValue(this.#context, this.#scope, this.#fullKey(id), value, options as SetOptions<never>);
  }

  getOrSet<V extends T = T>(
    id: BucketId,
    fetcher: Fetcher<V>,
    options?: GetOrSetOptions<V>,
  ): Promise<Resolved<T, V>> {
    try {
      this.#context.assertOpen();
      const key = this.#fullKey(id);
      if (typeof fetcher !== 'function')
        throw new CacheError('E_INVALID_OPTION', 'getOrSet() needs a fetcher function');
      const request = resolveWrite(this.#scope, options as GetOrSetOptions<never>);
      return getOrSet(this.#context, key, fetcher, this.#scope, request) as Promise<Resolved<T, V>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The values of many ids, aligned with `ids` (`undefined` for a miss), with ONE call of
   * `batchFetcher(missingIds, { signal })` for the ids that missed (see `Cache.getManyOrSet`). It
   * gets and returns ids, not keys: a Map from id to value, or an array aligned with its ids.
   */
  getManyOrSet<V extends T = T, I extends BucketId = BucketId>(
    ids: readonly I[],
    batchFetcher: BatchFetcher<WidenedId<I>, V>,
    options?: GetOrSetOptions<V>,
  ): Promise<Array<Resolved<T, V> | undefined>> {
    return getManyOrSetValues(
      this.#context,
      this.#scope,
      ids,
      batchFetcher as BatchFetcher<unknown, unknown>,
      options as GetOrSetOptions<never>,
      (id) => this.#fullKey(id as BucketId),
    ) as Promise<Array<Resolved<T, V> | undefined>>;
  }

  /** Drops one entry; resolves to whether it existed. One invalidation. */
  async invalidate(id: BucketId): Promise<boolean> {
    return (await invalidateKeys(this.#context, this.#scope, [this.#fullKey(id)])) === 1;
  }

  /** Drops every entry of the bucket; resolves to how many. One invalidation. */
  async invalidateAll(): Promise<number> {
    this.#context.assertOpen();
    const pattern = `${escapeGlob(this.#prefix)}:*`;
    storePatternOf(this.#context, pattern); // a store that cannot list keys refuses before counting
    this.#scope.metrics.invalidations++;
    publish('invalidate', () => ({
      cache: this.#context.name,
      domain: this.domain,
      bucket: this.name,
      kind: 'bucket',
    }));
    return deleteByPattern(this.#context, pattern);
  }

  stats(): BucketStats {
    return this.#scope.metrics.snapshot();
  }

  /** @internal */
  get scope(): Scope {
    return this.#scope;
  }

  #fullKey(id: BucketId): string {
    return this.#context.fullKey(this.key(id));
  }
}

export interface DomainStats<B extends BucketConfigs = BucketConfigs> {
  /** ISO-8601, when the snapshot was taken. */
  timestamp: string;
  /** Per bucket, plus the domain's total invalidation operations. */
  metrics: { [K in keyof B]: BucketStats } & { invalidations: number };
  /** Fresh window per bucket in seconds; `null` = until invalidated. */
  ttl: { [K in keyof B]: number | null };
}

/**
 * A domain cache (the seed's OrdersCacheService, CatalogCacheService, ...): named buckets that
 * share a key space `domain:*`, a default strategy and tag invalidation.
 */
export class Domain<B extends BucketConfigs> {
  readonly buckets: { readonly [K in keyof B]: Bucket<BucketValue<B[K]>> };
  readonly #context: CacheContext;
  readonly #metrics: BucketMetrics;

  /** @internal Domains are made by `cache.domain()`; the context is the cache's internals. */
  constructor(
    context: CacheContext,
    readonly name: string,
    config: DomainConfig<B>,
    cacheStrategy: Strategy,
    cacheFreshness: FreshnessSettings,
  ) {
    assertName(name, 'domain');
    if (
      typeof config !== 'object' ||
      config === null ||
      typeof config.buckets !== 'object' ||
      config.buckets === null
    ) {
      throw new CacheError('E_INVALID_OPTION', `domain ${name} needs { buckets: { ... } }`);
    }
    this.#context = context;
    // Domain-level invalidations (invalidateTags on the domain) are counted here.
    this.#metrics = context.metrics.bucket(name, '*');
    const domainStrategy = config.strategy ?? cacheStrategy;
    const domainFreshness = resolveFreshness(cacheFreshness, config, name);
    const buckets: Record<string, Bucket<unknown>> = {};
    for (const [bucketName, bucket] of Object.entries(config.buckets)) {
      assertName(bucketName, `bucket of ${name}`);
      if (typeof bucket !== 'object' || bucket === null) {
        throw new CacheError('E_INVALID_OPTION', `bucket ${name}.${bucketName} needs a config object`);
      }
      const scope = createScope(
        context.metrics.bucket(name, bucketName),
        bucket.strategy ?? domainStrategy,
        bucket.schema,
        resolveFreshness(domainFreshness, bucket, `${name}.${bucketName}`),
      );
      buckets[bucketName] = new Bucket(context, name, bucketName, scope);
    }
    this.buckets = Object.freeze(buckets) as Domain<B>['buckets'];
  }

  /** Every entry depending on any of these tags misses (tags are shared across the whole cache). */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    await invalidateTags(this.#context, { ...this.#context.defaultScope, metrics: this.#metrics }, tags);
  }

  /** In the seed's health payload shape: `{ timestamp, metrics: { <bucket>: {...}, invalidations }, ttl }`. */
  stats(): DomainStats<B> {
    const metrics: Record<string, BucketStats> = {};
    const ttl: Record<string, number | null> = {};
    let invalidations = this.#metrics.invalidations;
    for (const [bucketName, bucket] of Object.entries(this.buckets) as Array<[string, Bucket<unknown>]>) {
      const stats = bucket.stats();
      metrics[bucketName] = stats;
      invalidations += stats.invalidations;
      const ttlMs = bucket.scope.strategy.ttlMs;
      ttl[bucketName] = ttlMs === null ? null : ttlMs / 1000;
    }
    return {
      timestamp: new Date().toISOString(),
      metrics: { ...metrics, invalidations } as DomainStats<B>['metrics'],
      ttl: ttl as DomainStats<B>['ttl'],
    };
  }
}

function assertName(name: unknown, what: string): asserts name is string {
  // '__proto__' would become the prototype of the buckets and stats objects, not a key of them.
  if (
    typeof name !== 'string' ||
    !namePattern.test(name) ||
    name === 'invalidations' ||
    name === '__proto__'
  ) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${what} name must match ${namePattern} and be neither 'invalidations' nor '__proto__', got ${JSON.stringify(name)}`,
    );
  }
}
