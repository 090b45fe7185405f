import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RedisCluster, startRedisCluster } from './redis-cluster.js';
import { type RedisServer, startRedisServer, stopAllRedisServers } from './redis-server.js';

export interface PrivateRedisOptions {
  /**
   * Runs after every test and once more before the servers stop, e.g. `stopAllWorkers` for files
   * whose tests fork cache processes: they must be gone before their Redis is.
   */
  afterEach?: () => unknown;
}

/**
 * One redis-server of the calling test file's own, on a free port: started before its tests,
 * stopped by pid after them (with any other server this process started). For tests that need a
 * Redis nobody else writes to (command counts, INFO, FLUSHALL) or that kill, pause or restart it.
 * Call it at the top of the file; read `.server` inside tests and hooks, not before.
 */
export function usePrivateRedis(options: PrivateRedisOptions = {}): { readonly server: RedisServer } {
  let server: RedisServer | undefined;
  registerLifecycle(
    async () => {
      server = await startRedisServer();
    },
    30_000,
    options,
  );
  return {
    get server(): RedisServer {
      if (server === undefined)
        throw new Error('usePrivateRedis(): the server is there once beforeAll has run');
      return server;
    },
  };
}

/** {@link usePrivateRedis} for a Redis Cluster (3 masters, no replicas) of the file's own. */
export function usePrivateCluster(options: PrivateRedisOptions = {}): { readonly cluster: RedisCluster } {
  let cluster: RedisCluster | undefined;
  registerLifecycle(
    async () => {
      cluster = await startRedisCluster();
    },
    60_000,
    options,
    () => cluster?.stop(),
  );
  return {
    get cluster(): RedisCluster {
      if (cluster === undefined)
        throw new Error('usePrivateCluster(): the cluster is there once beforeAll has run');
      return cluster;
    },
  };
}

function registerLifecycle(
  start: () => Promise<void>,
  startTimeoutMs: number,
  options: PrivateRedisOptions,
  stop: () => unknown = () => undefined,
): void {
  beforeAll(start, startTimeoutMs);
  const cleanup = options.afterEach;
  if (cleanup !== undefined)
    afterEach(async () => {
      await cleanup();
    });
  afterAll(async () => {
    await cleanup?.();
    await stop();
    await stopAllRedisServers();
  });
}
