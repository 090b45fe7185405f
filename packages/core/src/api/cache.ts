import { jsonCodec } from '../codec/json.js';
import { type CacheOptions, type ResolvedOptions, resolveOptions } from '../config/options.js';
import { createScope } from '../config/scope.js';
import { Entries } from '../entry/entries.js';
import { TagVersions } from '../entry/tags.js';
import { CacheError } from '../errors.js';
import type { BatchFetcher } from '../flight/batch-result.js';
import { Coalescer } from '../flight/coalescer.js';
import type { CacheContext } from '../flight/context.js';
import { getOrSet } from '../flight/get-or-set.js';
import { recordDroppedWrites, recordReadProblem } from '../flight/record.js';
import type { Fetcher } from '../flight/types.js';
import { assertValidKey, KEY_SEPARATOR } from '../keys/keys.js';
import { publish } from '../observe/events.js';
import type { BucketStats } from '../observe/metrics.js';
import { DEFAULT_BUCKET, MetricsRegistry } from '../observe/metrics-registry.js';
import { createDriver, type StoreDriver } from '../store/driver.js';
import { GuardedStore } from '../store/guarded-store.js';
import {
  type CacheHealth,
  type HealthCheck,
  probeStore,
  runHealthChecks,
  worstStatus,
} from '../store/health.js';
import { capabilitiesOf } from '../store/store.js';
import { settleWithin } from '../support/deadline.js';
import { type BucketConfigs, Domain, type DomainConfig } from './domain.js';
import { getManyOrSetValues } from './many-or-set.js';
import { type MemoizeOptions, memoize } from './memoize.js';
import {
  type GetOrSetOptions,
  invalidateKeys,
  invalidateTags,
  readValue,
  resolveWrite,
  type SetOptions,
  settleRead,
  tagsFor,
  writeValue,
} from './operations.js';
import * as patterns from './pattern-ops.js';

export interface CacheStats {
  /** ISO-8601, when the snapshot was taken. */
  timestamp: string;
  prefix: string;
  /** The `name` option, or the prefix: what metrics and traces call this cache. */
  name: string;
  store: { name: string; breaker: string };
  inFlight: number;
  totals: Omit<BucketStats, 'fetchLatency'>;
  /** By bucket id: `default` for plain calls, `domain:bucket` for domain buckets. */
  buckets: Record<string, BucketStats>;
}

export interface SetManyEntry<T = unknown> extends SetOptions<T> {
  key: string;
  value: T;
}

// Several caches may share one store object: it is disconnected when the last of them closes.
const openCachesByStore = new WeakMap<object, number>();

/**
 * A cache over one store. Create it with `createCache()`.
 *
 * @example
 * const cache = createCache({ store: memoryStore(), prefix: 'bff', strategy: ttl('5m') });
 * const order = await cache.getOrSet('orders:detail:801', () => api.order(801), { tags: ['account:001'] });
 */
export class Cache {
  readonly #context: CacheContext;
  readonly #options: ResolvedOptions;
  readonly #driver: StoreDriver;
  readonly #domains = new Map<string, Domain<BucketConfigs>>();
  readonly #healthChecks = new Map<string, HealthCheck>();
  #closing: Promise<void> | undefined;

  constructor(options: CacheOptions) {
    const resolved = resolveOptions(options);
    const driver = createDriver(resolved.store);
    // A structured store is handed envelope objects, so core's codec never runs. For an in-process
    // store that is the point; a structured store that writes out of the process (tiered, to
    // Redis) applies the codec there itself, and one that cannot would silently store plaintext
    // where the user asked for, say, encryption.
    if (driver.structuredValues && !driver.inProcess) {
      const capabilities = capabilitiesOf(driver.target);
      if (capabilities?.adoptCodec !== undefined) capabilities.adoptCodec(resolved.codec);
      else if (resolved.codec !== jsonCodec) {
        throw new CacheError(
          'E_UNSUPPORTED',
          `store ${driver.name} serializes values itself: a custom codec (${resolved.codec.name}) would not be applied`,
          { store: driver.name },
        );
      }
    }
    const metrics = new MetricsRegistry();
    const prefix = resolved.prefix;
    const store = new GuardedStore(driver, {
      operationTimeoutMs: resolved.operationTimeoutMs,
      breaker: resolved.breaker,
      cacheName: resolved.name,
    });
    const tags = new TagVersions(
      store,
      `${prefix}${KEY_SEPARATOR}${KEY_SEPARATOR}tag${KEY_SEPARATOR}`,
      resolved.tagTtlMs,
    );
    const lifetime = new AbortController();
    // Checked on every call: a plain flag costs less than the signal's brand-checked getter.
    let closed = false;
    lifetime.signal.addEventListener(
      'abort',
      () => {
        closed = true;
      },
      { once: true },
    );
    const defaultScope = createScope(
      metrics.bucket(undefined, DEFAULT_BUCKET),
      resolved.strategy,
      undefined,
      resolved.freshness,
    );
    this.#options = resolved;
    this.#driver = driver;
    this.#context = {
      prefix,
      name: resolved.name,
      clock: resolved.clock,
      store,
      entries: new Entries(store, resolved.codec, tags, resolved.clock),
      tags,
      coalescer: new Coalescer(),
      metrics,
      defaultScope,
      fetchTimeoutMs: resolved.freshness.fetchTimeoutMs,
      lease: driver.leases === undefined ? undefined : resolved.lease,
      maxKeyBytes: resolved.maxKeyBytes,
      lifetime,
      fullKey: fullKeys(prefix, resolved.maxKeyBytes),
      assertOpen: () => {
        if (closed) throw new CacheError('E_CLOSED', `cache ${prefix} is closed`);
      },
    };
    // An adapter's 'error' event with no listener would crash the process; this one counts it.
    driver.onError((error) =>
      publish('storeError', () => ({ cache: resolved.name, domain: undefined, bucket: 'event', error })),
    );
    openCachesByStore.set(driver.target, (openCachesByStore.get(driver.target) ?? 0) + 1);
  }

  /** The prefix every key of this cache starts with. */
  get prefix(): string {
    return this.#context.prefix;
  }

  /** What metrics, traces and events call this cache (the `name` option, or the prefix). */
  get name(): string {
    return this.#context.name;
  }

  /** The fresh value, or `undefined`. `0`, `false`, `''` and `null` come back as stored. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const context = this.#context;
    return readValue(context, context.defaultScope, () => context.fullKey(key)) as Promise<T | undefined>;
  }

  /** Stores a value. `undefined` and values JSON cannot hold reject with E_INVALID_VALUE. */
  set<T>(key: string, value: T, options?: SetOptions<T>): Promise<void> {
    // Not an async layer over writeValue (one is enough); a bad key still rejects, never throws.
    const context = this.#context;
    let fullKey: string;
    try {
      fullKey = context.fullKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return writeValue(context, context.defaultScope, fullKey, value, options as SetOptions<never>);
  }

  async has(key: string): Promise<boolean> {
    const context = this.#context;
    context.assertOpen();
    const fullKey = context.fullKey(key);
    const outcome = await context.entries.read(fullKey, context.defaultScope);
    // A store error or a corrupt entry is counted, as for get(): never a silent `false`.
    if (outcome.kind !== 'fresh') recordReadProblem(context, context.defaultScope, fullKey, outcome);
    return outcome.kind === 'fresh';
  }

  /** Deletes a key (an invalidation: a fetch in flight for it will not be written). */
  async delete(key: string): Promise<boolean> {
    return (
      (await invalidateKeys(this.#context, this.#context.defaultScope, [this.#context.fullKey(key)])) === 1
    );
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>> {
    const context = this.#context;
    context.assertOpen();
    const fullKeys = keysOf(context, keys);
    const outcomes = await context.entries.readMany(fullKeys, context.defaultScope);
    return outcomes.map(
      (outcome, index) =>
        settleRead(context, context.defaultScope, fullKeys[index] as string, outcome) as T | undefined,
    );
  }

  /** Stores several values in one round trip. Every entry is validated before anything is written. */
  async setMany<T>(entries: ReadonlyArray<SetManyEntry<T>>): Promise<void> {
    const context = this.#context;
    context.assertOpen();
    if (!Array.isArray(entries))
      throw new CacheError('E_INVALID_OPTION', 'setMany() takes an array of { key, value }');
    const scope = context.defaultScope;
    const prepared = entries.map((entry) => {
      const key = context.fullKey(entry?.key);
      const request = resolveWrite(scope, entry as GetOrSetOptions<never>);
      const value = context.entries.prepare(entry.value, scope, key);
      return { key, request, value, tags: tagsFor(request.tags, value.returned) };
    });
    context.coalescer.invalidateKeys(prepared.map((entry) => entry.key));
    try {
      const allTags = [...new Set(prepared.flatMap((entry) => entry.tags))];
      const snapshot = allTags.length > 0 ? await context.tags.snapshot(allTags) : {};
      const encoded = prepared.map(({ key, request, value, tags }) => {
        const own =
          tags.length > 0 ? Object.fromEntries(tags.map((tag) => [tag, snapshot[tag] as string])) : undefined;
        const { stored, physicalTtlMs } = context.entries.encode(key, value.stored, request, own);
        return { key, value: stored, ttlMs: physicalTtlMs };
      });
      await context.store.setMany(encoded);
    } catch (error) {
      if (error instanceof CacheError && error.code === 'E_INVALID_VALUE') throw error;
      recordDroppedWrites(context, scope, undefined, error, prepared.length);
    }
  }

  /** Deletes keys; resolves to how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const context = this.#context;
    context.assertOpen();
    const fullKeys = keysOf(context, keys);
    return fullKeys.length === 0 ? 0 : invalidateKeys(context, context.defaultScope, fullKeys);
  }

  /**
   * The cached value, or the fetcher's, fetched once for all concurrent callers of the key.
   * A fetcher returning `undefined` is answered but not stored; a fetcher error reaches every
   * waiter and nothing is stored.
   */
  getOrSet<T>(key: string, fetcher: Fetcher<T>, options?: GetOrSetOptions<T>): Promise<T> {
    try {
      const context = this.#context;
      context.assertOpen();
      const fullKey = context.fullKey(key);
      if (typeof fetcher !== 'function')
        throw new CacheError('E_INVALID_OPTION', 'getOrSet() needs a fetcher function');
      const request = resolveWrite(context.defaultScope, options as GetOrSetOptions<never>);
      return getOrSet(context, fullKey, fetcher, context.defaultScope, request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The values of many keys, aligned with `keys` (`undefined` for a miss): one store read for all
   * of them, then ONE call of `batchFetcher(missingKeys, { signal })` for the keys that missed,
   * are not being fetched already in this process (those are joined) and are not leased by
   * another process (those are waited for, then read). It returns a Map from key to value or an
   * array aligned with its keys; keys it leaves out are misses. Each value is stored on its own.
   *
   * @example
   * const products = await cache.getManyOrSet(ids.map((id) => `catalog:product:${id}`), async (keys) =>
   *   new Map((await api.products(keys.map(idOf))).map((p) => [`catalog:product:${p.id}`, p])));
   */
  getManyOrSet<T>(
    keys: readonly string[],
    batchFetcher: BatchFetcher<string, T>,
    options?: GetOrSetOptions<T>,
  ): Promise<Array<T | undefined>> {
    const context = this.#context;
    return getManyOrSetValues(
      context,
      context.defaultScope,
      keys,
      batchFetcher as BatchFetcher<unknown, unknown>,
      options as GetOrSetOptions<never>,
      (key) => context.fullKey(key),
    ) as Promise<Array<T | undefined>>;
  }

  /** Every entry depending on any of these tags misses, on every instance. One round trip. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    await invalidateTags(this.#context, this.#context.defaultScope, tags);
  }

  /** Keys (without the prefix) matching a glob (`*`, `?`, `[..]`); use `escapeGlob()` for ids. */
  scan(pattern: string): AsyncIterable<string> {
    return patterns.scanUserKeys(this.#context, pattern);
  }

  async countByPattern(pattern: string): Promise<number> {
    return patterns.countByPattern(this.#context, pattern);
  }

  /**
   * Deletes every matching entry; resolves to how many were deleted. Counts as one invalidation.
   * `onProgress(deleted)` is called after each deleted batch.
   */
  async deleteByPattern(pattern: string, options?: patterns.DeleteByPatternOptions): Promise<number> {
    this.#context.assertOpen();
    patterns.storePatternOf(this.#context, pattern); // a refused pattern is not an invalidation
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new CacheError('E_INVALID_OPTION', 'deleteByPattern: options must be an object');
    }
    if (options?.onProgress !== undefined && typeof options.onProgress !== 'function') {
      throw new CacheError('E_INVALID_OPTION', 'deleteByPattern: onProgress must be a function');
    }
    this.#context.defaultScope.metrics.invalidations++;
    publish('invalidate', () => ({
      cache: this.name,
      domain: undefined,
      bucket: DEFAULT_BUCKET,
      kind: 'pattern',
      pattern,
    }));
    return patterns.deleteByPattern(this.#context, pattern, options);
  }

  /** Approximate bytes held by matching entries (native MEMORY USAGE where the store has it). */
  async memoryUsageByPattern(pattern: string): Promise<number> {
    return patterns.memoryUsageByPattern(this.#context, pattern);
  }

  /** Wraps an async function so its results are cached under `options.key(...args)`. */
  memoize<Args extends unknown[], T>(
    fn: (...args: Args) => Promise<T> | T,
    options: MemoizeOptions<Args, T>,
  ) {
    return memoize(
      (key, fetcher, callOptions) => this.getOrSet(key, fetcher, callOptions),
      this.#context,
      fn,
      options,
    );
  }

  /** A domain cache: typed buckets with their own strategy, schema and metrics. */
  domain<B extends BucketConfigs>(name: string, config: DomainConfig<B>): Domain<B> {
    if (this.#domains.has(name))
      throw new CacheError('E_INVALID_OPTION', `domain ${name} is already defined on this cache`);
    const domain = new Domain(this.#context, name, config, this.#options.strategy, this.#options.freshness);
    this.#domains.set(name, domain as unknown as Domain<BucketConfigs>);
    return domain;
  }

  stats(): CacheStats {
    const context = this.#context;
    return {
      timestamp: new Date().toISOString(),
      prefix: context.prefix,
      name: context.name,
      store: { name: context.store.name, breaker: context.store.breaker.state },
      inFlight: context.coalescer.size,
      totals: context.metrics.totals(),
      buckets: context.metrics.snapshot(),
    };
  }

  async health(): Promise<CacheHealth> {
    const context = this.#context;
    const store = context.lifetime.signal.aborted
      ? {
          name: context.store.name,
          status: 'down' as const,
          latencyMs: 0,
          breaker: context.store.breaker.state,
          reason: 'cache is closed',
        }
      : await probeStore(
          context.store,
          `${context.prefix}${KEY_SEPARATOR}${KEY_SEPARATOR}health`,
          this.#options.operationTimeoutMs,
        );
    const checks = await runHealthChecks(this.#healthChecks, this.#options.operationTimeoutMs);
    return {
      status: worstStatus([store.status, ...Object.values(checks).map((check) => check.status)]),
      timestamp: new Date().toISOString(),
      store,
      inFlight: context.coalescer.size,
      checks,
    };
  }

  /**
   * Adds a component (an invalidation subscriber, say) to `health()`: its status counts towards
   * the cache's. Returns the function that removes it. Throws E_INVALID_OPTION for a taken name.
   */
  addHealthCheck(name: string, check: HealthCheck): () => void {
    if (typeof check !== 'function')
      throw new CacheError('E_INVALID_OPTION', 'addHealthCheck() needs a check function');
    if (this.#healthChecks.has(name))
      throw new CacheError('E_INVALID_OPTION', `a health check named ${name} is already registered`);
    this.#healthChecks.set(name, check);
    return () => {
      if (this.#healthChecks.get(name) === check) this.#healthChecks.delete(name);
    };
  }

  /**
   * Closes the cache. Every call still waiting settles at once (`E_CLOSED`, or its result if it
   * had one), whatever its fetcher does; running fetchers see their signal aborted; no fetcher
   * starts afterwards; the leases this cache holds on a shared store are released, so other
   * processes do not wait out their lifetime; the store is disconnected once no other cache uses
   * it. Resolves when all of that is done (store operations already sent are awaited, each within
   * its deadline). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#release();
    return this.#closing;
  }

  async #release(): Promise<void> {
    const context = this.#context;
    const closed = new CacheError('E_CLOSED', `cache ${this.prefix} is closed`);
    context.lifetime.abort(closed);
    const leases = context.coalescer.closeAll(closed);
    await settleWithin(context.store.close(closed), CLOSE_TIMEOUT_MS);
    // Straight to the driver: the guarded store refuses everything now. Before the disconnect.
    const storeLeases = this.#driver.leases;
    if (storeLeases !== undefined && leases.length > 0) {
      await settleWithin(
        Promise.allSettled(leases.map((lease) => storeLeases.release(lease.key, lease.token))),
        CLOSE_TIMEOUT_MS,
      );
    }
    const target = this.#driver.target;
    const remaining = (openCachesByStore.get(target) ?? 1) - 1;
    openCachesByStore.set(target, remaining);
    // A third-party adapter's disconnect can wait forever on a dead server; closing must not.
    if (remaining === 0) await settleWithin(this.#driver.disconnect(), CLOSE_TIMEOUT_MS);
  }
}

const CLOSE_TIMEOUT_MS = 2_000;
const KEY_MEMO_SIZE = 10_000;

/**
 * `prefix:key` for a user key, validated. Memoized: a hot key is validated once, and the store
 * then always receives the same string, whose hash is already computed (a freshly concatenated
 * key costs a Map lookup ~10x more). Bounded: cleared when it reaches 10,000 keys.
 */
function fullKeys(prefix: string, maxKeyBytes: number): (key: unknown) => string {
  const memo = new Map<unknown, string>();
  return (key) => {
    const known = memo.get(key);
    if (known !== undefined) return known;
    assertValidKey(key, maxKeyBytes);
    const full = prefix + KEY_SEPARATOR + key;
    if (memo.size >= KEY_MEMO_SIZE) memo.clear();
    memo.set(key, full);
    return full;
  };
}

function keysOf(context: CacheContext, keys: readonly string[]): string[] {
  if (!Array.isArray(keys)) throw new CacheError('E_INVALID_KEY', 'expected an array of keys');
  return keys.map((key) => context.fullKey(key));
}

/** Creates a cache over a store. See `CacheOptions`. */
export function createCache(options: CacheOptions): Cache {
  return new Cache(options);
}
