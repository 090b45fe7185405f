import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Cache, type CacheOptions, createCache, isCacheError } from '@org/cache-core';
import { type RedisStoreOptions, redisBus, redisStore } from '@org/cache-redis';
import {
  freePort,
  type RedisServer,
  redisCommand,
  startRedisServer,
  uniquePrefix,
  waitFor,
} from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

/**
 * The least-privilege ACL for one cache prefix: what the adapter needs, and nothing else.
 * - keys `~<prefix>:*` (the glob also covers the internal `<prefix>::tag:...` and
 *   `<prefix>::lease:...` keys); one channel, `<prefix>::lease-released` (lease wake-ups);
 * - GET, MGET (reads, tag versions), SET, DEL (writes, invalidations, leases), EXISTS (lease
 *   waiters poll it when a wake-up is missed; keyv's has()), SCAN (pattern operations), MEMORY
 *   USAGE, EVALSHA and EVAL (lease commit/release scripts; EVAL after a NOSCRIPT), PUBLISH (from
 *   those scripts), SUBSCRIBE (waiters are woken instead of polling).
 * Not needed on a single server: PING, INFO, UNSUBSCRIBE (the subscriber connection is closed,
 * never unsubscribed), CLIENT SETINFO (node-redis ignores its failure). Found by removing one
 * command at a time from a wider set and running the smoke below.
 */
function cacheAcl(user: string, password: string, prefix: string): string[] {
  return [
    'ACL',
    'SETUSER',
    user,
    'reset',
    'on',
    `>${password}`,
    `~${prefix}:*`,
    'resetchannels',
    `&${prefix}::lease-released`,
    '+get',
    '+mget',
    '+set',
    '+del',
    '+exists',
    '+scan',
    '+memory|usage',
    '+evalsha',
    '+eval',
    '+publish',
    '+subscribe',
  ];
}

const opened: Cache[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

function open(store: RedisStoreOptions, options: Partial<CacheOptions> = {}): Cache {
  const cache = createCache({ store: redisStore(store), ...options });
  opened.push(cache);
  return cache;
}

/** Settles within `ms` or reports that it did not: a caller must never hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; hung?: true }> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<{ hung: true }>((resolve) => setTimeout(() => resolve({ hung: true }), ms)),
  ]);
}

/** What a service does with its cache: values, tags, a coalesced getOrSet, pattern operations. */
async function smoke(first: Cache, second: Cache): Promise<void> {
  await first.set('orders:1', { id: 1 }, { tags: ['account:001'] });
  expect(await first.get('orders:1')).toEqual({ id: 1 });
  expect(await second.get('orders:1')).toEqual({ id: 1 });

  // Two stores (two connections, as two processes would have): one fetch through the lease.
  let fetches = 0;
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const fetcher = async () => {
    fetches++;
    await gate;
    return { id: 2 };
  };
  const holder = first.getOrSet('orders:2', fetcher, { tags: ['account:001'] });
  // The holder's fetcher runs once it holds the lease.
  await waitFor('the holder fetches', () => fetches === 1);
  const waiter = second.getOrSet('orders:2', fetcher, { tags: ['account:001'] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  release();
  expect(await Promise.all([holder, waiter])).toEqual([{ id: 2 }, { id: 2 }]);
  expect(fetches).toBe(1);

  await first.set('catalog:1', 'c');
  expect(await first.countByPattern('orders:*')).toBe(2);
  const keys: string[] = [];
  for await (const key of first.scan('*')) keys.push(key);
  expect(keys.sort()).toEqual(['catalog:1', 'orders:1', 'orders:2']);
  expect(await first.memoryUsageByPattern('*')).toBeGreaterThan(0);
  await first.invalidateTags(['account:001']);
  expect(await second.getMany(['orders:1', 'orders:2', 'catalog:1'])).toEqual([undefined, undefined, 'c']);
  expect(await first.deleteByPattern('*')).toBe(3);
  expect(await first.delete('catalog:1')).toBe(false);
  expect((await first.health()).status).toBe('up');
  for (const cache of [first, second]) {
    expect(cache.stats().totals).toMatchObject({ storeErrors: 0, droppedWrites: 0 });
  }
}

describe('a least-privilege ACL user', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server?.stop());

  it('runs get, set, getOrSet with leases, tags and pattern operations, and is never denied', async () => {
    const prefix = uniquePrefix('acl');
    await redisCommand(server.port, cacheAcl('cache', 'secret', prefix));
    // A fresh script cache: the first lease commit goes EVALSHA -> NOSCRIPT -> EVAL.
    await redisCommand(server.port, ['SCRIPT', 'FLUSH']);
    await redisCommand(server.port, ['ACL', 'LOG', 'RESET']);
    const url = `redis://cache:secret@127.0.0.1:${server.port}`;
    // About permissions, not deadlines: at load ~14 (a suite run beside the bench) the 250 ms
    // default timed out the first set, and its get read a miss.
    const options = { prefix, operationTimeout: '5s' } as const;
    await smoke(open({ url }, options), open({ url }, options));
    // Failures the adapter absorbs (a lease poll, a subscription) would show up here.
    expect(await redisCommand(server.port, ['ACL', 'LOG'])).toEqual([]);
  });

  it('cannot reach keys outside its prefix', async () => {
    const prefix = uniquePrefix('acl');
    await redisCommand(server.port, cacheAcl('confined', 'secret', prefix));
    const url = `redis://confined:secret@127.0.0.1:${server.port}`;
    const store = redisStore({ url });
    try {
      await expect(store.connection.command(['GET', `${prefix}x:k`])).rejects.toThrow(/NOPERM/);
      await expect(store.connection.command(['FLUSHALL'])).rejects.toThrow(/NOPERM/);
    } finally {
      await store.disconnect();
    }
    const elsewhere = open({ url }, { prefix: `${prefix}x` });
    await elsewhere.set('k', 1);
    expect(elsewhere.stats().totals).toMatchObject({ droppedWrites: 1, storeErrors: 1 });
  });

  it('with a wrong password, reads miss and count a store error, invalidations reject, nothing hangs', async () => {
    const prefix = uniquePrefix('acl');
    await redisCommand(server.port, cacheAcl('cache', 'secret', prefix));
    const cache = createCache({
      store: redisStore({ url: `redis://cache:wrong@127.0.0.1:${server.port}` }),
      prefix,
    });
    const read = await within(cache.get('k'), 3_000);
    expect(read).toEqual({ value: undefined });
    expect(cache.stats().totals.storeErrors).toBe(1);
    const fetched = await within(
      cache.getOrSet('k', async () => 'from the source'),
      3_000,
    );
    expect(fetched).toEqual({ value: 'from the source' });
    const deleted = await within(cache.delete('k'), 3_000);
    expect(deleted.hung).toBeUndefined();
    expect(isCacheError(deleted.error), `delete settled with ${String(deleted.error ?? deleted.value)}`).toBe(
      true,
    );
    expect(await within(cache.close(), 3_000)).toEqual({ value: undefined });
  });
});

describe('TLS', () => {
  let dir: string;
  let ca: string;
  let tlsPort: number;
  let server: RedisServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'org-cache-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    try {
      await execFileAsync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
          '-keyout',
          key,
          '-out',
          cert,
        ]),
        { timeout: 20_000 },
      );
    } catch (error) {
      throw new Error(
        `the TLS tests need openssl to make a self-signed certificate: ${(error as Error).message}`,
      );
    }
    ca = await readFile(cert, 'utf8');
    tlsPort = await freePort();
    // The plain port stays open for the harness (readiness, stop); clients below use the TLS port.
    try {
      server = await startRedisServer({
        args: [
          '--tls-port',
          String(tlsPort),
          '--tls-cert-file',
          cert,
          '--tls-key-file',
          key,
          '--tls-ca-cert-file',
          cert,
          '--tls-auth-clients',
          'no',
        ],
      });
    } catch (error) {
      throw new Error(
        `redis-server could not listen with TLS (is it built with TLS support?): ${(error as Error).message}`,
      );
    }
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rediss:// with the CA and servername works end to end, the bus included', async () => {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const tls = { ca, servername: 'localhost' };
    const prefix = uniquePrefix('tls');
    // As above: about TLS, not deadlines.
    const options = { prefix, operationTimeout: '5s' } as const;
    await smoke(open({ url, tls }, options), open({ url, tls }, options));

    const channel = uniquePrefix('tls-bus');
    const bus = redisBus({ url, tls, channel });
    try {
      const received: string[] = [];
      bus.subscribe((message) => received.push(message));
      await bus.ready();
      await bus.publish('over tls');
      const deadline = Date.now() + 2_000;
      while (received.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(received).toEqual(['over tls']);
    } finally {
      await bus.close();
    }
  });

  it('the TLS port refuses plaintext, an unknown CA and a wrong servername', async () => {
    const attempts: Array<[string, RedisStoreOptions]> = [
      ['plaintext', { url: `redis://127.0.0.1:${tlsPort}` }],
      ['no CA (self-signed)', { url: `rediss://127.0.0.1:${tlsPort}`, tls: { servername: 'localhost' } }],
      [
        'wrong servername',
        { url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca, servername: 'other.example' } },
      ],
    ];
    for (const [label, options] of attempts) {
      const cache = open(options, { prefix: uniquePrefix('tls') });
      const read = await within(cache.get('k'), 3_000);
      expect(read, label).toEqual({ value: undefined });
      expect(cache.stats().totals.storeErrors, label).toBe(1);
      expect((await cache.health()).status, label).toBe('down');
    }
  });
});
