import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { memoryStore } from '@org/cache-memory';
import { type RedisBus, redisBus, redisStore } from '@org/cache-redis';
import { type RedisServer, startRedisServer } from '@org/cache-test-support';
import { type TieredStore, tieredStore } from '@org/cache-tiered';
import Keyv from 'keyv';
import * as vitest from 'vitest';

// keyv's own adapter suite through `new Keyv({ store: tieredStore(...) })`: a keyv user (cache-manager,
// cacheable) must be able to use the two-tier store as any other adapter. A fresh store per call,
// because Keyv keeps one namespace per adapter object. The suite calls keyv.clear(), so it runs on a
// redis-server of its own.
let server: RedisServer;
const opened: Array<{ store: TieredStore; bus: RedisBus }> = [];
vitest.beforeAll(async () => {
  server = await startRedisServer();
});
vitest.afterAll(async () => {
  await Promise.all(opened.map(async ({ store, bus }) => Promise.all([store.disconnect(), bus.close()])));
  await server?.stop();
});

const store = () => {
  const bus = redisBus({ url: server.url, channel: 'keyv-suite' });
  const created = tieredStore({ l1: memoryStore(), l2: redisStore({ url: server.url }), bus });
  opened.push({ store: created, bus });
  return created;
};
keyvTestSuite(vitest, Keyv, store);
keyvIteratorTests(vitest, Keyv, store);

// The same suite with Redis client tracking instead of the bus.
const tracked: TieredStore[] = [];
vitest.afterAll(async () => {
  await Promise.all(tracked.map((created) => created.disconnect()));
});
const trackingStore = () => {
  const created = tieredStore({
    l1: memoryStore(),
    l2: redisStore({ url: server.url }),
    coherence: 'tracking',
  });
  tracked.push(created);
  return created;
};
vitest.describe("coherence: 'tracking'", () => {
  keyvTestSuite(vitest, Keyv, trackingStore);
  keyvIteratorTests(vitest, Keyv, trackingStore);
});
