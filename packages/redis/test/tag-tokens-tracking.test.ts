import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { redisCommand, uniquePrefix, usePrivateRedis } from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorkers, stopAllWorkers } from './workers/pool.js';

// redisStore({ trackTagTokens: true }): tag tokens kept in process, invalidated by Redis client
// tracking. A tagged read is then one round trip (GET) where it was two (GET, then MGET of the
// tokens); a tag invalidated by another process is seen on the next read, and nothing is kept
// while tracking is down.

const privateRedis = usePrivateRedis({ afterEach: stopAllWorkers });
const opened: Cache[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

/** Calls per command since the server started, from INFO commandstats. */
async function commandCalls(): Promise<Map<string, number>> {
  const info = String(await redisCommand(privateRedis.server.port, ['INFO', 'commandstats']));
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

function trackedCache(prefix: string, url = privateRedis.server.url) {
  const store = redisStore({ url, trackTagTokens: true });
  const cache = createCache({ store, prefix, operationTimeout: '5s' });
  opened.push(cache);
  return { store, cache };
}

describe('redisStore({ trackTagTokens: true })', { timeout: 30_000 }, () => {
  it('a tagged read is one round trip once its tokens are known: GET only, no MGET', async () => {
    const prefix = uniquePrefix('tag-tracking');
    const { store, cache } = trackedCache(prefix);
    await store.tagTracking?.ready();
    await cache.set('catalog:1', { id: 1 }, { tags: ['product:A', 'product:B', 'vendor:7'] });
    expect(await cache.get('catalog:1')).toEqual({ id: 1 }); // reads the tokens once, tracked
    const before = await commandCalls();
    for (let read = 0; read < 20; read++) expect(await cache.get('catalog:1')).toEqual({ id: 1 });
    const after = await commandCalls();
    expect((after.get('get') ?? 0) - (before.get('get') ?? 0)).toBe(20);
    expect((after.get('mget') ?? 0) - (before.get('mget') ?? 0)).toBe(0);
    expect(store.tagTracking?.stats.tokenHits).toBeGreaterThanOrEqual(60);
  });

  it('this process’s own invalidateTags is seen at once (before Redis’s invalidation comes back)', async () => {
    const prefix = uniquePrefix('tag-tracking-own');
    const { cache } = trackedCache(prefix);
    await cache.set('catalog:2', 'two', { tags: ['product:C'] });
    expect(await cache.get('catalog:2')).toBe('two');
    expect(await cache.get('catalog:2')).toBe('two');
    await cache.invalidateTags(['product:C']);
    expect(await cache.get('catalog:2')).toBeUndefined();
  });

  it('a tag invalidated by another process is seen on the next tagged read', async () => {
    const prefix = uniquePrefix('tag-tracking-mp');
    const { store, cache } = trackedCache(prefix);
    await store.tagTracking?.ready();
    const [other] = await startWorkers([
      { name: 'B', prefix, redis: { url: privateRedis.server.url }, trackTagTokens: true },
    ]);
    for (let round = 1; round <= 20; round++) {
      await cache.set('catalog:3', { round }, { tags: ['product:D'] });
      expect(await cache.get('catalog:3')).toEqual({ round });
      expect(await cache.get('catalog:3')).toEqual({ round }); // tokens known: no MGET
      await other?.request('invalidateTags', { tags: ['product:D'] });
      // Redis pushed the invalidation when it acknowledged B's write; B answered us after that.
      // Allow the push the guarantee's 10 ms to be read by this process.
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await cache.get('catalog:3'), `round ${round}`).toBeUndefined();
    }
    expect(store.tagTracking?.stats.invalidations).toBeGreaterThanOrEqual(20);
  });

  it('a redis-cli style raw SET of a tag key (a token written by anything) invalidates too', async () => {
    const prefix = uniquePrefix('tag-tracking-raw');
    const { store, cache } = trackedCache(prefix);
    await store.tagTracking?.ready();
    await cache.set('catalog:4', 'four', { tags: ['product:E'] });
    expect(await cache.get('catalog:4')).toBe('four');
    await redisCommand(privateRedis.server.port, ['SET', `${prefix}::tag:product:E`, 'AAAAAAAA.zz']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await cache.get('catalog:4')).toBeUndefined();
  });

  it('tracking lost (CLIENT KILL of the tracked connection): nothing kept is trusted; tokens are read again', async () => {
    const prefix = uniquePrefix('tag-tracking-kill');
    const { store, cache } = trackedCache(prefix);
    await store.tagTracking?.ready();
    await cache.set('catalog:5', 'five', { tags: ['product:F'] });
    expect(await cache.get('catalog:5')).toBe('five');
    // Tracking connections of this server carry flag t; kill them all (this test's only).
    const list = String(await redisCommand(privateRedis.server.port, ['CLIENT', 'LIST']));
    const tracked = [...list.matchAll(/\bid=(\d+)\b[^\n]*\bflags=\S*t/g)].map((match) => match[1] as string);
    expect(tracked.length).toBeGreaterThanOrEqual(1);
    for (const id of tracked) await redisCommand(privateRedis.server.port, ['CLIENT', 'KILL', 'ID', id]);
    // While it is down, a change made meanwhile is seen (tokens are read from Redis).
    await redisCommand(privateRedis.server.port, ['SET', `${prefix}::tag:product:F`, 'BBBBBBBB.zz']);
    expect(await cache.get('catalog:5')).toBeUndefined();
    expect(store.tagTracking?.stats.losses).toBeGreaterThanOrEqual(1);
  });

  it('Redis refuses tracking (ACL without +client|tracking): tokens are read every time, reads stay right', async () => {
    const username = uniquePrefix('no-tracking').replace(/[^a-z0-9-]/gi, '');
    await redisCommand(privateRedis.server.port, [
      'ACL',
      'SETUSER',
      username,
      'on',
      '>pw',
      '~*',
      '&*',
      '+@all',
      '-client|tracking',
    ]);
    const store = redisStore({
      url: privateRedis.server.url,
      username,
      password: 'pw',
      trackTagTokens: true,
    });
    const cache = createCache({ store, prefix: uniquePrefix('tag-tracking-acl'), operationTimeout: '5s' });
    opened.push(cache);
    const refusal = await store.tagTracking?.ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isCacheError(refusal) && refusal.code).toBe('E_INVALID_OPTION');
    await cache.set('catalog:6', 'six', { tags: ['product:G'] });
    expect(await cache.get('catalog:6')).toBe('six');
    await cache.invalidateTags(['product:G']);
    expect(await cache.get('catalog:6')).toBeUndefined();
    expect(store.tagTracking?.stats.tokenHits).toBe(0);
  });
});
