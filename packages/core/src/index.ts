export type { BreakerState } from './breaker.js';
export { type BucketReading, bucketReadings } from './bucket-readings.js';
export type { CacheBus } from './bus.js';
export { Cache, type CacheStats, createCache, type SetManyEntry } from './cache.js';
export { type Clock, coarseClock, coarseNow } from './clock.js';
export {
  type CompressedCodecOptions,
  type CompressionAlgorithm,
  compressedCodec,
} from './codec/compressed.js';
export { type EncryptedCodecOptions, encryptedCodec } from './codec/encrypted.js';
export { type Codec, jsonCodec } from './codec/json.js';
export { type DomainDefinition, type DomainOf, defineDomain } from './define-domain.js';
export {
  Bucket,
  type BucketConfig,
  type BucketConfigs,
  type BucketId,
  type BucketValue,
  Domain,
  type DomainConfig,
  type DomainStats,
} from './domain.js';
export { type Duration, MAX_TIMEOUT_MS, MAX_TTL_MS, parseDuration, parseTimeout } from './duration.js';
export { type CacheEnv, loadCacheEnv } from './env.js';
export { ENVELOPE_VERSION, type Envelope, isEnvelope, parseEnvelopeText } from './envelope.js';
export {
  CacheError,
  type CacheErrorCode,
  type CacheErrorContext,
  FetchTimeoutError,
  isCacheError,
  StoreTimeoutError,
} from './errors.js';
export { EventLoopTurns } from './event-loop-turns.js';
export {
  type CacheEvent,
  type CacheEventName,
  cacheChannels,
  cacheTracingChannels,
  type FetchTraceMessage,
  type StoreTraceMessage,
} from './events.js';
export type { FetchContext, Fetcher, TagsOption } from './get-or-set.js';
export { compileGlob, type GlobMatcher } from './glob.js';
export type { CacheHealth, ComponentHealth, HealthCheck, HealthStatus, StoreHealth } from './health.js';
export { type JsonValue, MAX_VALUE_DEPTH, parseUntrustedJson } from './json-value.js';
export {
  assertValidKey,
  cacheKey,
  DEFAULT_MAX_KEY_BYTES,
  escapeGlob,
  KEY_SEPARATOR,
  type KeySegment,
} from './keys.js';
export type { MemoizeOptions } from './memoize.js';
export type { BucketCounters, BucketStats, LatencySummary } from './metrics.js';
export { LATENCY_BOUNDS_MS } from './metrics.js';
export type { GetOrSetOptions, SetOptions } from './operations.js';
export type { BreakerSettings, CacheOptions } from './options.js';
export type { DeleteByPatternOptions } from './pattern-ops.js';
export {
  type CacheStore,
  capabilitiesOf,
  type IfAbsentEntry,
  type StoreCapabilities,
  type StoreInput,
  type StoreLeases,
  type StoreScanOptions,
  storeCapabilities,
  syncUnknown,
} from './store.js';
export {
  DEFAULT_SAFETY_TTL_MS,
  type EventDrivenOptions,
  eventDriven,
  type HybridOptions,
  hybrid,
  type Strategy,
  type StrategyKind,
  ttl,
} from './strategies.js';
