import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { type RedisStore, redisStore } from '@org/cache-redis';
import { type RedisServer, startRedisServer } from '@org/cache-test-support';
import Keyv from 'keyv';
import * as vitest from 'vitest';

// keyv's own adapter suite: redisStore() must work for any keyv user. A fresh adapter per call,
// because Keyv keeps one namespace per adapter object (true of every keyv adapter). The suite
// calls keyv.clear() (namespace-scoped in our store), so it runs on a redis-server of its own.
let server: RedisServer;
const stores: RedisStore[] = [];
vitest.beforeAll(async () => {
  server = await startRedisServer();
});
vitest.afterAll(async () => {
  await Promise.all(stores.map((store) => store.disconnect()));
  await server?.stop();
});

const store = () => {
  const created = redisStore({ url: server.url });
  stores.push(created);
  return created;
};
keyvTestSuite(vitest, Keyv, store);
keyvIteratorTests(vitest, Keyv, store);
