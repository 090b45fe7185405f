import { createSentinel, type RedisClientType } from '@keyv/redis';
import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { type RedisStore, redisStore } from '@org/cache-redis';
import {
  clusterKeySlot,
  clusterSlotOwners,
  freePort,
  redisCommand,
  uniquePrefix,
  usePrivateCluster,
} from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';

// Client tracking on a real 3-master Redis Cluster, at the store's level: openTracking() (what the
// tiered store uses) reads keys of every master in order and reports every master's invalidations
// to one listener; trackTagTokens keeps tag tokens of every master. Sentinel is refused.

const privateCluster = usePrivateCluster();
const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

const port = (index: number) => privateCluster.cluster.nodes[index]?.port ?? 0;

function clusterStore(options: { trackTagTokens?: boolean } = {}): RedisStore {
  const store = redisStore({ cluster: { rootNodes: privateCluster.cluster.rootNodes }, ...options });
  opened.push(() => store.disconnect());
  return store;
}

async function ownersOf(keys: string[]): Promise<number[]> {
  const owners = await clusterSlotOwners(port(0));
  return Promise.all(keys.map(async (key) => owners(await clusterKeySlot(port(0), key))));
}

/** Calls per command summed over every master, from INFO commandstats. */
async function commandCalls(): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const node of privateCluster.cluster.nodes) {
    const info = String(await redisCommand(node.port, ['INFO', 'commandstats']));
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      calls.set(match[1] as string, (calls.get(match[1] as string) ?? 0) + Number(match[2]));
    }
  }
  return calls;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

describe('client tracking on a Redis Cluster', { timeout: 30_000 }, () => {
  it('openTracking: one tracked connection per master; readMany over every master in order; every master’s invalidations reach the one listener', async () => {
    const store = clusterStore();
    const invalidated = new Set<string>();
    const states: boolean[] = [];
    const tracking = store.openTracking({
      invalidate: (keys) => {
        for (const key of keys) invalidated.add(key);
      },
      flushed: () => {},
      state: (up) => states.push(up),
    });
    opened.unshift(() => tracking.close());
    await tracking.ready();
    expect(tracking.up).toBe(true);
    expect(states).toEqual([true]);
    // One connection with tracking on (flag t) per master, none elsewhere.
    for (const node of privateCluster.cluster.nodes) {
      const list = String(await redisCommand(node.port, ['CLIENT', 'LIST']));
      expect(list.split('\n').filter((line) => /flags=\S*t\S* /.test(line))).toHaveLength(1);
    }
    const prefix = uniquePrefix('cluster-open-tracking');
    const keys = Array.from({ length: 30 }, (_, index) => `${prefix}:k${index}`);
    expect(new Set(await ownersOf(keys)).size).toBe(3);
    for (const [index, key] of keys.entries()) {
      if (index % 4 !== 0) await store.set(key, `v${index}`, index % 2 === 0 ? 60_000 : undefined);
    }
    const order = [...keys.keys()].reverse();
    const reads = await tracking.readMany(order.map((index) => keys[index] as string));
    expect(reads.map((read) => read.value)).toEqual(
      order.map((index) => (index % 4 === 0 ? undefined : `v${index}`)),
    );
    reads.forEach((read, position) => {
      const index = order[position] as number;
      if (index % 4 !== 0 && index % 2 === 0) expect(read.ttlMs).toBeGreaterThan(50_000);
      else expect(read.ttlMs).toBeUndefined();
    });
    expect(await tracking.read(keys[1] as string)).toEqual({ value: 'v1', ttlMs: undefined });
    // Written by another connection (the store's own): every master pushes for its keys.
    for (const key of keys) await store.set(key, 'changed');
    await waitUntil('every key invalidated', () => keys.every((key) => invalidated.has(key)));
    expect(tracking.stats.invalidations).toBeGreaterThanOrEqual(keys.length);
    expect(tracking.stats.topologyChanges).toBe(0);
    await tracking.close();
    expect(tracking.up).toBe(false);
    expect(states).toEqual([true, false]);
  });

  it('trackTagTokens: tokens on every master are kept (a tagged read is one GET, no MGET) and another store’s invalidateTags is seen', async () => {
    const prefix = uniquePrefix('cluster-tag-tokens');
    const store = clusterStore({ trackTagTokens: true });
    const cache = createCache({ store, prefix, operationTimeout: '5s' });
    opened.unshift(() => cache.close());
    await store.tagTracking?.ready();
    const tags = ['product:A', 'product:B', 'vendor:7', 'vendor:8', 'region:eu'];
    // Tokens live at `<prefix>::tag:<tag>`: spread over at least two masters here.
    expect(new Set(await ownersOf(tags.map((tag) => `${prefix}::tag:${tag}`))).size).toBeGreaterThanOrEqual(
      2,
    );
    await cache.set('catalog:1', { id: 1 }, { tags });
    expect(await cache.get('catalog:1')).toEqual({ id: 1 }); // reads the tokens once, tracked
    const before = await commandCalls();
    for (let read = 0; read < 20; read++) expect(await cache.get('catalog:1')).toEqual({ id: 1 });
    const after = await commandCalls();
    expect((after.get('get') ?? 0) - (before.get('get') ?? 0)).toBe(20);
    expect((after.get('mget') ?? 0) - (before.get('mget') ?? 0)).toBe(0);

    const other: Cache = createCache({ store: clusterStore(), prefix, operationTimeout: '5s' });
    opened.unshift(() => other.close());
    for (const tag of tags) {
      await cache.set('catalog:1', { id: 1 }, { tags });
      await waitUntil(
        `catalog:1 readable again before ${tag}`,
        async () => (await cache.get('catalog:1')) !== undefined,
      );
      await other.invalidateTags([tag]);
      await waitUntil(
        `invalidateTags(${tag}) by another store is seen`,
        async () => (await cache.get('catalog:1')) === undefined,
      );
    }
    expect(store.tagTracking?.stats.invalidations).toBeGreaterThanOrEqual(tags.length);
  });

  it('an ACL user without +client|tracking: ready() rejects with E_INVALID_OPTION and no master keeps a tracking connection', async () => {
    const username = uniquePrefix('no-tracking').replace(/[^a-z0-9-]/gi, '');
    for (const node of privateCluster.cluster.nodes) {
      await redisCommand(node.port, [
        'ACL',
        'SETUSER',
        username,
        'on',
        '>secret',
        '~*',
        '&*',
        '+@all',
        '-client|tracking',
      ]);
    }
    const store = redisStore({
      cluster: { rootNodes: privateCluster.cluster.rootNodes },
      username,
      password: 'secret',
      clientOptions: { name: 'acl-store' },
    });
    opened.push(() => store.disconnect());
    const tracking = store.openTracking({ invalidate: () => {}, flushed: () => {}, state: () => {} });
    opened.unshift(() => tracking.close());
    await expect(tracking.ready()).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
    expect(tracking.refused?.message).toMatch(/client\|tracking/);
    expect(tracking.up).toBe(false);
    // Refused for good: no tracking connection keeps retrying the handshake. A retry would be
    // seen here: the store's back-off retries within 50-100 ms, and HELLO names the connection
    // before CLIENT TRACKING fails.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const node of privateCluster.cluster.nodes) {
      const clients = String(await redisCommand(node.port, ['CLIENT', 'LIST']));
      expect(clients).toContain(`user=${username} `); // the store's own connection
      expect(clients).not.toContain('name=acl-store:tracking ');
    }
    // The store itself still works.
    await store.set(`${username}:k`, 'v');
    expect(await store.get(`${username}:k`)).toBe('v');
  });

  it('a borrowed Sentinel client is refused with E_INVALID_OPTION: its connection options cannot be followed to the master', async () => {
    // Never connected: a borrowed client is used as it is, and the refusal comes before any I/O.
    // (Sentinel given as options is tracked: tiered's tracking-sentinel.test.ts.)
    const sentinel = createSentinel({
      name: 'mymaster',
      sentinelRootNodes: [{ host: '127.0.0.1', port: await freePort() }],
    });
    const store = redisStore({ client: sentinel as unknown as RedisClientType });
    opened.push(() => store.disconnect());
    try {
      store.openTracking({ invalidate: () => {}, flushed: () => {}, state: () => {} });
      expect.fail('expected E_INVALID_OPTION');
    } catch (error) {
      expect(isCacheError(error) && error.code).toBe('E_INVALID_OPTION');
      expect((error as Error).message).toMatch(/Sentinel client passed as `client`.*give `sentinel` options/);
    }
    // trackTagTokens too, at construction.
    expect(() =>
      redisStore({ client: sentinel as unknown as RedisClientType, trackTagTokens: true }),
    ).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
  });
});
