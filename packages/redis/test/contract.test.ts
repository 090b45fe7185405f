import { escapeGlob } from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { type RedisStore, redisStore } from '@org/cache-redis';
import { type RedisServer, sharedRedisUrl, startRedisServer } from '@org/cache-test-support';
import { cacheContractSuite, storeContractSuite } from '@org/cache-testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';

// The project's store contract, raw and through createCache, on a redis-server of our own.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

storeContractSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'redisStore',
    createStore: () => redisStore({ url: server.url }),
    capabilities: { ttl: true, scan: true, memoryUsage: true, syncRead: false, structuredValues: false },
    cleanup: (store) => store.disconnect?.(),
  },
);

// The cache level again on the machine's Redis (REDIS_URL, else 127.0.0.1:6379), which other
// programs share: the suite gives every test a prefix of its own; on cleanup we delete the keys
// under the prefixes this store wrote to (tag keys and safetyTtl 0 entries would never expire).
cacheContractSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'redisStore on the shared Redis',
    createStore: () => trackPrefixes(redisStore({ url: sharedRedisUrl() })),
    capabilities: { ttl: true, scan: true, memoryUsage: true, syncRead: false, structuredValues: false },
    // The suite checks what the cache returns, not how fast: a loaded 2-core machine can take
    // longer than the 250 ms default deadline for one Redis command (a dropped write then
    // reads back as a miss). Deadlines are tested in failure-*.test.ts.
    cacheOptions: { operationTimeout: '10s' },
    cleanup: async (store) => {
      await (store as TrackedStore).disconnect();
      await deleteTrackedPrefixes(store as TrackedStore);
    },
  },
);

type TrackedStore = RedisStore & { prefixes: Set<string> };

/** Records the cache prefix (what precedes the first ':') of every key written through the store. */
function trackPrefixes(store: RedisStore): TrackedStore {
  const tracked = Object.assign(store, { prefixes: new Set<string>() });
  const note = (key: string) => {
    const end = key.indexOf(':');
    if (end > 0) tracked.prefixes.add(key.slice(0, end));
  };
  const set = store.set.bind(store);
  const setMany = store.setMany.bind(store);
  tracked.set = (key, value, ttl) => {
    note(key);
    return set(key, value, ttl);
  };
  tracked.setMany = (entries) => {
    for (const entry of entries) note(entry.key);
    return setMany(entries);
  };
  // A getOrSet writes through its lease (a Lua script), never through set.
  const leases = store[storeCapabilities].leases;
  if (leases !== undefined) {
    const acquire = leases.acquire.bind(leases);
    leases.acquire = (key, token, ttlMs) => {
      note(key);
      return acquire(key, token, ttlMs);
    };
  }
  return tracked;
}

/** Deletes the keys under each tracked prefix, through a connection of its own (the caches closed the store's). */
async function deleteTrackedPrefixes(store: TrackedStore): Promise<void> {
  const janitor = redisStore({ url: sharedRedisUrl() });
  try {
    for (const prefix of store.prefixes) {
      // Only the suite's own prefixes: `t` and 12 hex digits, plus the suffixes some tests add.
      if (!/^t[0-9a-f]{12}[A-Za-z0-9_-]*$/.test(prefix)) throw new Error(`unexpected prefix ${prefix}`);
      for await (const batch of janitor[storeCapabilities].scan?.(`${escapeGlob(prefix)}:*`) ?? []) {
        await janitor.deleteMany(batch);
      }
    }
  } finally {
    await janitor.disconnect();
  }
}
