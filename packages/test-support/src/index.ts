export { CLUSTER_BUS_OFFSET, freePort, isPortFree } from './free-port.js';
export { brokenEnvelope, deepJson, envelopeLike, storedGarbage } from './garbage.js';
export {
  type Invalidation,
  type InvalidationLoadOptions,
  type LoadRecord,
  type Read,
  runInvalidationLoad,
  type StaleRead,
  staleReads,
  type TimedCall,
  worstLatency,
} from './invalidation-load.js';
export {
  type InvalidationRaceOptions,
  invalidationRace,
  type RaceSubject,
  runs,
} from './invalidation-race.js';
export { measure, measurementsFile, report } from './measurements.js';
export { type PrivateRedisOptions, usePrivateCluster, usePrivateRedis } from './private-redis.js';
export {
  addClusterReplica,
  clusterKeySlot,
  clusterNodeArgs,
  clusterSlotOwners,
  moveClusterSlot,
  type RedisCluster,
  type StartRedisClusterOptions,
  startRedisCluster,
  waitForClusterOk,
} from './redis-cluster.js';
export {
  replicasCaughtUp,
  type SentinelSetup,
  type StartSentinelSetupOptions,
  startSentinelSetup,
} from './redis-sentinel.js';
export {
  type RedisServer,
  redisBinary,
  type StartRedisServerOptions,
  sharedRedisUrl,
  startRedisServer,
  stopAllRedisServers,
  trackedRedisPids,
  uniquePrefix,
} from './redis-server.js';
export {
  type RedisCommandOptions,
  RedisCommandTimeoutError,
  RedisReplyError,
  type RespReply,
  redisCommand,
} from './resp.js';
export { sleep } from './sleep.js';
export {
  countCommands,
  Latencies,
  type LoadResult,
  runLoad,
  type Settled,
  settle,
  trapUnhandled,
  waitFor,
} from './timing.js';
