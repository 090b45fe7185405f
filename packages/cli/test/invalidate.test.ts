import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachectl } from './support/cachectl.js';
import { type RedisServer, startRedisServer } from './support/redis.js';
import { Sdk } from './support/sdk.js';
import { cachectlInTerminal } from './support/terminal.js';

// invalidate, run as a process: it counts first, asks (or refuses), and goes through the SDK, so
// leases are revoked and, with --bus-channel, other instances drop their in-process copies.

let redis: RedisServer;
const sdk = new Sdk(() => redis.url);
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);

afterAll(async () => {
  await sdk.closeAll();
  await redis?.stop();
});

/** A fresh prefix seeded with orders (tagged by account) and a catalog entry. */
async function seeded(): Promise<{ prefix: string; cache: Cache }> {
  const prefix = `inv${++prefixes}`;
  const cache = sdk.cache(prefix);
  await cache.setMany([
    { key: 'orders:detail:801', value: { id: 801 }, tags: ['account:001'] },
    { key: 'orders:detail:802', value: { id: 802 }, tags: ['account:001'] },
    { key: 'orders:detail:803', value: { id: 803 }, tags: ['account:002'] },
    { key: 'catalog:product:9', value: { name: 'Widget' }, tags: ['product:9'] },
  ]);
  return { prefix, cache };
}

const run = (prefix: string, ...args: string[]) =>
  cachectl(['invalidate', ...args, '--url', redis.url, '--prefix', prefix]);

describe('invalidate --yes', () => {
  it('--key deletes the keys and reports the JSON shape', async () => {
    const { prefix, cache } = await seeded();
    const result = await run(
      prefix,
      '--key',
      'orders:detail:801',
      '--key',
      'orders:detail:999',
      '--yes',
      '--json',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      kind: 'key',
      targets: ['orders:detail:801', 'orders:detail:999'],
      matched: 1,
      invalidated: 1,
      dryRun: false,
      busChannel: null,
    });
    expect(await cache.get('orders:detail:801')).toBeUndefined();
    expect(await cache.get('orders:detail:802')).toEqual({ id: 802 });
  });

  it('--tag misses every dependent and nothing else', async () => {
    const { prefix, cache } = await seeded();
    const result = await run(prefix, '--tag', 'account:001', '--yes', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'tag', matched: 2, invalidated: 2 });
    expect(await cache.getMany(['orders:detail:801', 'orders:detail:802', 'orders:detail:803'])).toEqual([
      undefined,
      undefined,
      { id: 803 },
    ]);
    expect(await cache.get('catalog:product:9')).toEqual({ name: 'Widget' });
  });

  it('--pattern deletes the matching entries only, in this prefix only', async () => {
    const { prefix, cache } = await seeded();
    const neighbour = sdk.cache(`${prefix}x`);
    await neighbour.set('orders:detail:801', 'neighbour');
    const result = await run(prefix, '--pattern', 'orders:*', '--yes');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("invalidated 3 entries (pattern 'orders:*')\n");
    expect(result.stderr).toContain("found 3 live entries matching 'orders:*'");
    expect(await cache.countByPattern('orders:*')).toBe(0);
    expect(await cache.get('catalog:product:9')).toEqual({ name: 'Widget' });
    expect(await neighbour.get('orders:detail:801')).toBe('neighbour');
  });

  it('revokes a fetch in flight in another process: its late result is not stored', async () => {
    const { prefix, cache } = await seeded();
    let finishFetch: (value: unknown) => void = () => {};
    const inFlight = cache.getOrSet(
      'orders:detail:900',
      () => new Promise((resolve) => (finishFetch = resolve)),
    );
    const store = sdk.store();
    await waitUntil(() => store.has(`${prefix}::lease:orders:detail:900`));
    const stats = await cachectl(['stats', '--json', '--url', redis.url, '--prefix', prefix]);
    expect(JSON.parse(stats.stdout).leases).toBe(1);

    expect((await run(prefix, '--pattern', 'orders:*', '--yes')).code).toBe(0);
    finishFetch({ id: 900, stale: true });
    expect(await inFlight).toEqual({ id: 900, stale: true }); // the callers already waiting get it...
    expect(await sdk.cache(prefix).get('orders:detail:900')).toBeUndefined(); // ...nobody after them
  });

  it('--bus-channel: instances running a tiered store drop their in-process copies', async () => {
    const { prefix } = await seeded();
    const channel = `${prefix}:bus`;
    const bus = redisBus({ url: redis.url, channel });
    const instance = createCache({
      store: tieredStore({ l1: memoryStore(), l2: redisStore({ url: redis.url }), bus, l1Ttl: '10m' }),
      prefix,
      operationTimeout: '30s',
    });
    sdk.track(instance);
    await bus.ready();
    // Both entries are now in the instance's L1.
    expect(await instance.getMany(['orders:detail:801', 'orders:detail:802'])).toEqual([
      { id: 801 },
      { id: 802 },
    ]);

    // Without the bus, Redis loses the entry but the instance keeps serving its copy...
    expect((await run(prefix, '--key', 'orders:detail:801', '--yes')).code).toBe(0);
    expect(await instance.get('orders:detail:801')).toEqual({ id: 801 });
    // ...with it, the instance hears about it and misses.
    const told = await run(prefix, '--key', 'orders:detail:802', '--yes', '--bus-channel', channel, '--json');
    expect(told.code).toBe(0);
    expect(JSON.parse(told.stdout)).toMatchObject({ invalidated: 1, busChannel: channel });
    await waitUntil(async () => (await instance.get('orders:detail:802')) === undefined);
  });
});

describe('counting first, asking before deleting', () => {
  it('--dry-run counts and deletes nothing', async () => {
    const { prefix, cache } = await seeded();
    const result = await run(prefix, '--pattern', 'orders:*', '--dry-run', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      kind: 'pattern',
      targets: ['orders:*'],
      matched: 3,
      invalidated: 0,
      dryRun: true,
      busChannel: null,
    });
    expect(await cache.countByPattern('orders:*')).toBe(3);
  });

  it('refuses without a terminal and without --yes: exit 6, nothing deleted', async () => {
    const { prefix, cache } = await seeded();
    const result = await run(prefix, '--pattern', 'orders:*', '--json');
    expect(result.code).toBe(6);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr.trim().split('\n').at(-1) as string)).toEqual({
      error: {
        code: 'E_CONFIRMATION_REQUIRED',
        exitCode: 6,
        message: expect.stringContaining('3 live entries'),
        hint: expect.stringContaining('--yes'),
      },
    });
    expect(await cache.countByPattern('orders:*')).toBe(3);
  });

  it('on a terminal, asks: "n" aborts with exit 6, "y" deletes', async () => {
    const { prefix, cache } = await seeded();
    const args = ['invalidate', '--tag', 'account:001', '--url', redis.url, '--prefix', prefix];
    const declined = await cachectlInTerminal(args, 'n\n');
    expect(declined.output).toContain("invalidate 2 live entries depending on tag 'account:001'? [y/N]");
    expect(declined.output).toContain('aborted: nothing was invalidated');
    expect(declined.code).toBe(6);
    expect(await cache.get('orders:detail:801')).toEqual({ id: 801 });

    const accepted = await cachectlInTerminal(args, 'y\n');
    expect(accepted.code).toBe(0);
    expect(accepted.output).toContain("invalidated 2 entries (tag 'account:001')");
    expect(await cache.get('orders:detail:801')).toBeUndefined();
  });

  it('exits 5 when nothing matches, for each kind', async () => {
    const { prefix } = await seeded();
    for (const args of [
      ['--key', 'orders:detail:999'],
      ['--pattern', 'invoices:*'],
      ['--tag', 'never-used'],
    ]) {
      const result = await run(prefix, ...args, '--yes');
      expect(result.code, args.join(' ')).toBe(5);
      expect(result.stderr).toMatch(/no (entry|tag)/);
    }
  });
});

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
