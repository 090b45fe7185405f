// A service that builds its cache exactly as tieredStore's documentation shows (the bus created
// inline, so the service holds no reference to it), uses it, and closes it. Nothing else is left
// open: the process must then exit by itself. Prints what it did on stdout for the test.
import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';

const url = process.env.REDIS_URL;
const cache = createCache({
  store: tieredStore({ l1: memoryStore(), l2: redisStore({ url }), bus: redisBus({ url }) }),
  prefix: process.env.CACHE_PREFIX,
});
await cache.set('k', 'v');
console.log(`read ${await cache.get('k')}`);
await cache.close();
console.log('closed');
