import { storeCapabilities } from '@org/cache-core/adapter';
import { type RedisStore, redisStore } from '@org/cache-redis';
import { redisCommand, sharedRedisUrl, sleep, uniquePrefix } from '@org/cache-test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The lease rules of scripts.ts at the store level, on the machine's Redis (unique prefixes):
// a plain set no longer deletes the lease, so the holder's commit must see that the entry was
// written since it took the lease, and must still write over an entry that merely expired.
let store: RedisStore;
const leases = () => {
  const capability = store[storeCapabilities].leases;
  if (capability === undefined) throw new Error('redisStore has no leases');
  return capability;
};
const port = () => Number(new URL(sharedRedisUrl()).port || 6379);
const leaseKeyOf = (key: string) => key.replace(':', '::lease:');

beforeAll(() => {
  store = redisStore({ url: sharedRedisUrl() });
});
afterAll(async () => {
  await store.disconnect();
});

describe('lease commit rules on Redis', () => {
  it('a set made during the fetch of an absent key wins over the commit', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    await store.set(key, 'written by a set', 10_000);
    expect(await leases().commit(key, 'token-1', 'fetched before the set', 10_000)).toBe(false);
    expect(await store.get(key)).toBe('written by a set');
    // The refused commit gave the lease up: the next fetch can take it at once.
    expect(await redisCommand(port(), ['EXISTS', leaseKeyOf(key)])).toBe(0);
    await store.delete(key);
  });

  it('a set made during the refresh of a present key wins over the commit', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    await store.set(key, 'old', 10_000);
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    await store.set(key, 'newer', 10_000);
    expect(await leases().commit(key, 'token-1', 'refreshed from before the set', 10_000)).toBe(false);
    expect(await store.get(key)).toBe('newer');
    await store.delete(key);
  });

  it('an entry unchanged since the lease was taken is replaced by the commit', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    await store.set(key, 'old', 10_000);
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    expect(await leases().commit(key, 'token-1', 'refreshed', 10_000)).toBe(true);
    expect(await store.get(key)).toBe('refreshed');
    expect(await redisCommand(port(), ['EXISTS', leaseKeyOf(key)])).toBe(0);
    await store.delete(key);
  });

  it('an entry that expired during the fetch is written: expiry is not a newer write', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    await store.set(key, 'about to expire', 30);
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    // Not a deadline: waits until Redis reports the key gone, however long that takes.
    while ((await redisCommand(port(), ['EXISTS', key])) === 1) await sleep(10);
    expect(await leases().commit(key, 'token-1', 'refreshed', 10_000)).toBe(true);
    expect(await store.get(key)).toBe('refreshed');
    await store.delete(key);
  });

  it('a delete during the fetch revokes the lease: the commit writes nothing', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    await store.set(key, 'old', 10_000);
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    await store.delete(key);
    expect(await leases().commit(key, 'token-1', 'fetched before the delete', 10_000)).toBe(false);
    expect(await store.get(key)).toBeUndefined();
  });

  it('only the holder commits or releases; a second acquire waits for the lease', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    expect(await leases().acquire(key, 'token-2', 10_000)).toBe(false);
    // A token that is a prefix of the holder's must not pass for it.
    expect(await leases().commit(key, 'token-', 'not the holder', 10_000)).toBe(false);
    await leases().release(key, 'token-2');
    expect(await redisCommand(port(), ['EXISTS', leaseKeyOf(key)])).toBe(1);
    await leases().release(key, 'token-1');
    expect(await redisCommand(port(), ['EXISTS', leaseKeyOf(key)])).toBe(0);
    expect(await store.get(key)).toBeUndefined();
  });

  it('a key of another type (a hash) is recorded as such and overwritten by the commit', async () => {
    const key = `${uniquePrefix('lr')}:k`;
    await redisCommand(port(), ['HSET', key, 'field', 'value']);
    expect(await leases().acquire(key, 'token-1', 10_000)).toBe(true);
    expect(await leases().commit(key, 'token-1', 'a proper entry', 10_000)).toBe(true);
    expect(await store.get(key)).toBe('a proper entry');
    await store.delete(key);
  });
});
