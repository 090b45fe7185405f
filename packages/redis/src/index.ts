export type { RedisConnectionOptions, RedisMode } from './connection.js';
export { RedisStore, type RedisStoreOptions, redisStore } from './redis-store.js';
