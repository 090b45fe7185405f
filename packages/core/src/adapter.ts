/**
 * `@org/cache-core/adapter`: for the authors of stores, buses, change-event sources and metric
 * exporters. Applications need only the root export.
 */
export { type BucketReading, bucketReadings } from './api/bucket-readings.js';
export { ENVELOPE_VERSION, type Envelope, isEnvelope, parseEnvelopeText } from './codec/envelope.js';
export { coarseNow } from './config/clock.js';
export { MAX_TIMEOUT_MS, parseTimeout } from './config/duration.js';
export { compileGlob, type GlobMatcher } from './keys/glob.js';
export { LATENCY_BOUNDS_MS } from './observe/metrics.js';
export type { CacheBus } from './store/bus.js';
export { EventLoopTurns } from './store/event-loop-turns.js';
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
} from './store/store.js';
export { Backoff, type BackoffOptions, backoffDelay } from './support/backoff.js';
export { settleWithin, withDeadline } from './support/deadline.js';
