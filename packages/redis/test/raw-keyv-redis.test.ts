import KeyvRedis, { type KeyvRedisOptions } from '@keyv/redis';
import { type Cache, createCache, isCacheError } from '@org/cache-core';
import {
  type RedisServer,
  redisCommand,
  sleep,
  startRedisServer,
  uniquePrefix,
} from '@org/cache-test-support';
import { cacheContractSuite } from '@org/cache-testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/*
 * A raw @keyv/redis adapter passed straight to createCache: no capabilities, so core falls back to
 * what keyv adapters have (pattern operations over `iterator`, memory usage estimated from the
 * values, coalescing inside one process only).
 *
 * The configuration that works: `new KeyvRedis(url, { throwOnErrors: true })`.
 * - throwOnErrors: true is required. By default KeyvRedis turns every failed command into a
 *   no-op answer (a failed GET is `undefined`, a failed SET "succeeds"), so core cannot see the
 *   failure: a refused write is neither dropped-and-counted nor retried, a failing read is an
 *   ordinary miss, and stats()/health() stay blind (the tests below show both).
 * - No namespace is needed: core's prefix already scopes every key (`<prefix>:key`, internal keys
 *   `<prefix>::...`). Without a namespace KeyvRedis's `iterator()` SCANs the whole database and
 *   skips keys containing `::` (its namespace separator), which hides core's internal keys before
 *   core filters them; core then keeps only `<prefix>:` keys. A namespace (`{ namespace: 'app' }`)
 *   also works: keys become `app::<prefix>:key` and the iterator SCANs `app::*` only, which is
 *   cheaper on a big shared database. Both are run through the contract below.
 * - Never call the adapter's own `clear()` without a namespace: it deletes every key of the
 *   database that lacks `::`. Core never calls it.
 */
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

const configurations: Array<[string, KeyvRedisOptions]> = [
  ['{ throwOnErrors: true }', { throwOnErrors: true }],
  ["{ throwOnErrors: true, namespace: 'app' }", { throwOnErrors: true, namespace: 'app' }],
];
for (const [label, options] of configurations) {
  cacheContractSuite(
    { describe, it, beforeEach, afterEach },
    {
      name: `raw KeyvRedis ${label}`,
      createStore: () => new KeyvRedis(server.url, options),
      capabilities: { ttl: true },
      // The suite checks what the cache returns, not how fast: a loaded 2-core machine can take
      // longer than the 250 ms default deadline for one Redis command (a dropped write then
      // reads back as a miss). Deadlines are tested in failure-*.test.ts.
      cacheOptions: { operationTimeout: '10s' },
      cleanup: (store) => (store as KeyvRedis<unknown>).disconnect(),
    },
  );
}

describe('raw KeyvRedis: why throwOnErrors must be true', () => {
  const opened: Cache[] = [];
  const open = (options: KeyvRedisOptions | undefined, url = server.url) => {
    const cache = createCache({ store: new KeyvRedis(url, options), prefix: uniquePrefix('raw') });
    opened.push(cache);
    return cache;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()));
  });

  it('a read Redis refuses (WRONGTYPE) is an invisible miss by default, a counted store error with throwOnErrors', async () => {
    const silent = open(undefined);
    const loud = open({ throwOnErrors: true });
    for (const cache of [silent, loud]) {
      await redisCommand(server.port, ['HSET', `${cache.prefix}:k`, 'field', 'value']);
    }
    expect(await silent.get('k')).toBeUndefined();
    expect(await loud.get('k')).toBeUndefined();
    expect(silent.stats().totals.storeErrors).toBe(0);
    expect(loud.stats().totals.storeErrors).toBe(1);
  });

  describe('on a Redis that refuses writes (maxmemory reached)', () => {
    let full: RedisServer;
    beforeAll(async () => {
      full = await startRedisServer({ args: ['--maxmemory', '1', '--maxmemory-policy', 'noeviction'] });
    });
    afterAll(() => full?.stop());

    it('a refused write looks stored by default; with throwOnErrors it is a counted dropped write', async () => {
      const silent = open(undefined, full.url);
      const loud = open({ throwOnErrors: true }, full.url);
      await silent.set('k', 1);
      await loud.set('k', 1);
      expect(await silent.get('k')).toBeUndefined();
      expect(await loud.get('k')).toBeUndefined();
      expect(silent.stats().totals).toMatchObject({ droppedWrites: 0, storeErrors: 0 });
      expect(loud.stats().totals).toMatchObject({ droppedWrites: 1, storeErrors: 1 });
    });
  });
});

describe('raw KeyvRedis on a Redis that is down', () => {
  it('reads are counted misses, invalidations reject with a CacheError, and close() does not hang', async () => {
    const gone = await startRedisServer();
    const url = gone.url;
    await gone.stop();
    const store = new KeyvRedis(url, { throwOnErrors: true });
    const cache = createCache({ store, prefix: uniquePrefix('down') });
    try {
      expect(await cache.get('k')).toBeUndefined();
      expect(cache.stats().totals.storeErrors).toBe(1);
      const failure = await cache.delete('k').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isCacheError(failure), String(failure)).toBe(true);
      // KeyvRedis queues commands while disconnected and its disconnect() waits for them: core
      // must bound it like every other store operation.
      const closed = await Promise.race([
        cache.close().then(() => 'closed'),
        sleep(3_000).then(() => 'still closing after 3 s'),
      ]);
      expect(closed).toBe('closed');
    } finally {
      // Stops the reconnect loop if close() did not; throws when the client is already closed.
      await Promise.resolve()
        .then(() => store.client.destroy())
        .catch(() => {});
    }
  });
});
