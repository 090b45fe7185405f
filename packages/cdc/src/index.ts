export {
  ALL_RECORDS,
  CHANGE_KINDS,
  type ChangeKind,
  type InvalidationEvent,
  invalidationEventSchema,
  parseInvalidationEvent,
} from './event.js';
export { type InProcessSource, type InProcessSourceOptions, inProcessSource } from './in-process-source.js';
export { createInvalidator, Invalidator, type InvalidatorOptions } from './invalidator.js';
export type { ApplyOutcome } from './outcome.js';
export type { RedisStreamSourceHealth } from './redis-streams/stream-health.js';
export {
  type RedisStreamPublisher,
  type RedisStreamPublisherOptions,
  redisStreamPublisher,
} from './redis-streams/stream-publisher.js';
export {
  type RedisStreamSource,
  type RedisStreamSourceOptions,
  redisStreamSource,
} from './redis-streams/stream-source.js';
export {
  type EntityRule,
  type InvalidationPlan,
  type InvalidationRules,
  type PlanOf,
  SYSTEM_FIELDS,
} from './rules.js';
export {
  CHANGE_TYPES,
  type ChangeEventHeader,
  changeEventHeaderSchema,
  normalizeSalesforceEvent,
  type SalesforceNormalizeOptions,
} from './salesforce.js';
export type {
  CallbackPubSubClient,
  CallbackSubscriptionInfo,
  ClientReplayId,
  EmitterPubSubClient,
  PubSubApi,
  PubSubClient,
  PubSubEmitter,
  SubscribeCallback,
} from './salesforce-pubsub/client-shapes.js';
export {
  type CachePositionStoreOptions,
  cachePositionStore,
  type PositionStore,
  type ReplayPosition,
  replayPositionKey,
} from './salesforce-pubsub/position-store.js';
export type { SalesforcePubSubCounters, SalesforcePubSubHealth } from './salesforce-pubsub/pubsub-health.js';
export type { SalesforcePubSubSourceOptions } from './salesforce-pubsub/pubsub-options.js';
export { SalesforcePubSubSource, salesforcePubSubSource } from './salesforce-pubsub/pubsub-source.js';
export type { InvalidationSource, SourceContext, SourceHealth } from './source.js';
export type { InvalidatorCounters, InvalidatorHealth } from './subscriber-health.js';
