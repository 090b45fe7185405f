import type { CacheStore } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import type { BffConfig } from '../config/bff-config.js';

export type StoreKind = 'memory' | 'redis' | 'tiered';

export interface ChosenStore {
  store: CacheStore;
  kind: StoreKind;
  /** For people: `in-memory`, `redis 127.0.0.1:6379`, `tiered: memory L1 + redis 127.0.0.1:6379`. */
  name: string;
}

/**
 * The one place the backing store is chosen, at start-up: in-memory for local development,
 * Redis when REDIS_URL is set, and a memory L1 in front of Redis (kept coherent across
 * instances by a Redis pub/sub bus) with CACHE_TIER=tiered.
 */
export function chooseStore(config: Pick<BffConfig, 'redisUrl' | 'tier' | 'cachePrefix'>): ChosenStore {
  const { redisUrl } = config;
  if (redisUrl === undefined)
    return { store: memoryStore({ maxEntries: 50_000 }), kind: 'memory', name: 'in-memory' };
  const host = new URL(redisUrl).host;
  if (config.tier === 'tiered') {
    return {
      store: tieredStore({
        l1: memoryStore({ maxEntries: 50_000 }),
        l2: redisStore({ url: redisUrl }),
        bus: redisBus({ url: redisUrl, channel: `${config.cachePrefix}:cache-bus` }),
        l1Ttl: '1m',
      }),
      kind: 'tiered',
      name: `tiered: memory L1 + redis ${host}`,
    };
  }
  return { store: redisStore({ url: redisUrl }), kind: 'redis', name: `redis ${host}` };
}
