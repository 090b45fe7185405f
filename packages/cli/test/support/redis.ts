// The redis-server harness of @org/cache-redis's tests, by relative path until it becomes the shared
// test-support package (DESIGN.md: "a test-support package: redis-server / cluster processes").

export {
  freePort,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
  stopAllRedisServers,
} from '@org/cache-test-support';
