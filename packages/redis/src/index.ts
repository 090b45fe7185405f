export type {
  AnyRedis,
  NodeCommand,
  RedisConnection,
  RedisConnectionOptions,
  RedisConnectionSettings,
  RedisMode,
  RedisTarget,
  SentinelOptions,
} from './connection.js';
export { RedisBus, type RedisBusOptions, redisBus } from './redis-bus.js';
export { RedisStore, type RedisStoreOptions, redisStore } from './redis-store.js';
export type { TrackedTagTokens } from './tracking/tag-tokens.js';
export type {
  TrackedConnection,
  TrackedConnectionOptions,
  TrackedRead,
  TrackingListener,
  TrackingStats,
} from './tracking/tracked-connection.js';
