import { isCacheError } from '@org/cache-core';
import { type RedisStoreOptions, redisBus, redisStore } from '@org/cache-redis';
import { describe, expect, it } from 'vitest';

function refusal(create: () => unknown): unknown {
  try {
    const created = create() as { close?: () => Promise<void> } | undefined;
    void created?.close?.(); // it should not have been created: do not leave a connection behind
  } catch (error) {
    return error;
  }
  return undefined;
}

// Plain-JS callers (and `as` casts) get what the types refuse: a typed error before any I/O, and
// never a quiet connection to 127.0.0.1:6379 (where this machine does run a Redis).
describe('redisStore() and redisBus() without a server', () => {
  const missing: Array<[string, () => unknown]> = [
    ['redisStore()', () => (redisStore as (options?: unknown) => unknown)()],
    ['redisStore({})', () => redisStore({} as RedisStoreOptions)],
    ['redisStore({ url: undefined })', () => redisStore({ url: undefined } as unknown as RedisStoreOptions)],
    ['redisStore({ scanCount: 10 })', () => redisStore({ scanCount: 10 } as RedisStoreOptions)],
    ['redisBus()', () => (redisBus as (options?: unknown) => unknown)()],
    ['redisBus({ channel })', () => redisBus({ channel: 'app:bus' } as Parameters<typeof redisBus>[0])],
  ];

  it.each(missing)('%s is E_INVALID_OPTION naming url, client, cluster and sentinel', (_, create) => {
    const error = refusal(create);
    expect(isCacheError(error, 'E_INVALID_OPTION'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/url, client, cluster or sentinel/);
    expect((error as Error).message).toMatch(/no default/);
  });

  it('two topologies at once are E_INVALID_OPTION too', () => {
    const error = refusal(() =>
      redisStore({ url: 'redis://127.0.0.1:1', sentinel: { name: 'm', sentinelRootNodes: [] } } as never),
    );
    expect(isCacheError(error, 'E_INVALID_OPTION'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/not several/);
  });

  it('a url that is not a redis:// or rediss:// string is E_INVALID_OPTION', () => {
    for (const url of ['http://127.0.0.1:6379', 6379, '']) {
      const error = refusal(() => redisStore({ url } as never));
      expect(isCacheError(error, 'E_INVALID_OPTION'), `${url}: ${String(error)}`).toBe(true);
    }
  });
});
