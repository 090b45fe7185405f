// The redis-server harness of @org/cache-redis's tests, by relative path until it becomes the shared
// test-support package (DESIGN.md: "a test-support package: redis-server / cluster processes").

export { freePort } from '../../../redis/test/support/free-port.js';
export { type RedisCluster, startRedisCluster } from '../../../redis/test/support/redis-cluster.js';
export {
  type RedisServer,
  startRedisServer,
  stopAllRedisServers,
} from '../../../redis/test/support/redis-server.js';
