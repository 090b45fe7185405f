import type { Cache } from '@org/cache-core';
import { CacheModule, getCacheToken } from '@org/cache-nestjs';
import { redisStore } from '@org/cache-redis';
import { sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountsUpstream, accountsModule } from './support/accounts.js';
import { getJson, type RunningApp, startApp } from './support/app.js';

const apps: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** One app instance: its own Nest application and Redis connection, on the prefix all instances share. */
async function instance(prefix: string, upstream: AccountsUpstream): Promise<RunningApp> {
  const app = await startApp({
    imports: [
      CacheModule.forRoot({
        store: redisStore({ url: sharedRedisUrl() }),
        prefix,
        logger: false,
        // The claim is coalescing, not deadlines: on a busy shared machine a Redis round trip can
        // pass the default 250 ms, and a store timeout rightly falls back to the fetcher.
        operationTimeout: '5s',
      }),
      accountsModule(upstream),
    ],
  });
  apps.push(app);
  return app;
}

describe('@Cached on Redis across two app instances', () => {
  it('100 concurrent requests for one account, spread over both instances, make 1 upstream call', async () => {
    const prefix = uniquePrefix('nest-accounts');
    // One upstream shared by both instances: it counts every call, whoever makes it.
    const upstream = new AccountsUpstream(150);
    const [a, b] = [await instance(prefix, upstream), await instance(prefix, upstream)];
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) => getJson(`${(index % 2 === 0 ? a : b).url}/accounts/001`)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(new Set(responses.map((response) => JSON.stringify(response.body))).size).toBe(1);
    expect(upstream.calls).toBe(1);
    const stats = [a, b].map((app) => app.app.get<Cache>(getCacheToken()).stats().totals);
    expect(stats.map((totals) => totals.storeErrors)).toEqual([0, 0]);
    expect(stats.reduce((calls, totals) => calls + totals.hits + totals.misses, 0)).toBe(100);
  });

  it('an eviction on one instance makes the other refetch', async () => {
    const prefix = uniquePrefix('nest-evict');
    const upstream = new AccountsUpstream(10);
    const [a, b] = [await instance(prefix, upstream), await instance(prefix, upstream)];
    expect((await getJson(`${a.url}/accounts/002`)).body).toMatchObject({ version: 1 });
    expect((await getJson(`${b.url}/accounts/002`)).body).toMatchObject({ version: 1 });
    await fetch(`${a.url}/accounts/002/rename`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Renamed' }),
    });
    expect((await getJson(`${b.url}/accounts/002`)).body).toEqual({ id: '002', name: 'Renamed', version: 2 });
  });
});
