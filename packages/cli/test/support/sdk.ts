import { type Cache, type CacheOptions, createCache } from '@org/cache-core';
import { type RedisStore, redisStore } from '@org/cache-redis';

/** Caches the test process opens on a test's Redis (the application side), closed by closeAll(). */
export class Sdk {
  private readonly open: Array<{ close(): Promise<void> }> = [];

  constructor(private readonly url: () => string) {}

  cache(prefix: string, options: Omit<CacheOptions, 'store' | 'prefix'> = {}): Cache {
    // A generous deadline: on a busy machine the SDK's 250 ms default turns slow reads into misses
    // and slow writes into dropped ones, and these tests are about the CLI, not about deadlines.
    const cache = createCache({
      // Nor should a long pipeline of writes look like a half-open connection (2 s by default).
      store: redisStore({ url: this.url(), stallTimeout: '60s' }),
      prefix,
      operationTimeout: '30s',
      ...options,
    });
    this.open.push(cache);
    return cache;
  }

  /** A raw store, to write what "another program" would (foreign values, other Redis types). */
  store(url = this.url()): RedisStore {
    const store = redisStore({ url });
    this.open.push({ close: () => store.disconnect() });
    return store;
  }

  track(closable: { close(): Promise<void> }): void {
    this.open.push(closable);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((item) => item.close()));
  }
}
