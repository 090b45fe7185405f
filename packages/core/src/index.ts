/**
 * `@org/cache-core` for applications: create a cache, shape it with domains, buckets and
 * strategies, read, write and invalidate, observe it. What store, bus and exporter authors need
 * on top of this is in `@org/cache-core/adapter`.
 */
export { Cache, type CacheStats, createCache, type SetManyEntry } from './api/cache.js';
export { type DomainDefinition, type DomainOf, defineDomain } from './api/define-domain.js';
export {
  Bucket,
  type BucketConfig,
  type BucketConfigs,
  type BucketId,
  type BucketValue,
  Domain,
  type DomainConfig,
  type DomainStats,
  type Resolved,
  type WidenedId,
} from './api/domain.js';
export type { MemoizeOptions } from './api/memoize.js';
export type { GetOrSetOptions, SetOptions } from './api/operations.js';
export type { DeleteByPatternOptions } from './api/pattern-ops.js';
export {
  type CompressedCodecOptions,
  type CompressionAlgorithm,
  compressedCodec,
} from './codec/compressed.js';
export { type EncryptedCodecOptions, encryptedCodec } from './codec/encrypted.js';
export { type Codec, jsonCodec } from './codec/json.js';
export { type JsonValue, MAX_VALUE_DEPTH, parseUntrustedJson } from './codec/json-value.js';
export { type Clock, coarseClock } from './config/clock.js';
export { type Duration, type DurationUnit, MAX_TTL_MS, parseDuration } from './config/duration.js';
export { type CacheEnv, loadCacheEnv } from './config/env.js';
export type { FreshnessOptions } from './config/freshness.js';
export type { BreakerSettings, CacheOptions } from './config/options.js';
export {
  DEFAULT_SAFETY_TTL_MS,
  type EventDrivenOptions,
  eventDriven,
  type HybridOptions,
  hybrid,
  type JitterOptions,
  type Strategy,
  type StrategyKind,
  ttl,
} from './config/strategies.js';
export type { TagsOption } from './config/write-request.js';
export {
  CacheError,
  type CacheErrorCode,
  type CacheErrorContext,
  FetchTimeoutError,
  isCacheError,
  StoreTimeoutError,
} from './errors.js';
export type { BatchFetchContext, BatchFetcher, BatchResult } from './flight/batch-result.js';
export type { FetchContext, Fetcher } from './flight/types.js';
export {
  assertValidKey,
  cacheKey,
  DEFAULT_MAX_KEY_BYTES,
  escapeGlob,
  KEY_SEPARATOR,
  type KeySegment,
} from './keys/keys.js';
export {
  type CacheEvent,
  type CacheEventName,
  cacheChannels,
  cacheTracingChannels,
  type FetchTraceMessage,
  type StoreTraceMessage,
} from './observe/events.js';
export type { BucketCounters, BucketStats, LatencySummary } from './observe/metrics.js';
export type { BreakerState } from './store/breaker.js';
export type { CacheHealth, ComponentHealth, HealthCheck, HealthStatus, StoreHealth } from './store/health.js';
export type { CacheStore, StoreInput } from './store/store.js';
