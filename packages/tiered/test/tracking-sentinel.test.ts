import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import {
  type RedisServer,
  redisCommand,
  type SentinelSetup,
  startSentinelSetup,
  uniquePrefix,
} from '@org/cache-test-support';
import { type TieredStore, tieredStore } from '@org/cache-tiered';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/instances.js';
import { fillL1, probe } from './support/l1-probe.js';

// `coherence: 'tracking'` behind Redis Sentinel, in one process: one master, one replica and three
// Sentinels started here on free ports. The tracked connection must be on the master the store
// writes to, follow it through a failover, and never trust the demoted one.

let setup: SentinelSetup;
const opened: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  setup = await startSentinelSetup();
}, 60_000);
afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});
afterAll(async () => {
  await setup?.stop();
});

function trackedCache(name: string, prefix = uniquePrefix(name)): { store: TieredStore; cache: Cache } {
  const store = tieredStore({
    l1: memoryStore(),
    // Named, so its tracked connection is `<name>:tracking` in the master's CLIENT LIST.
    l2: redisStore({
      sentinel: { name: setup.name, sentinelRootNodes: setup.sentinelRootNodes },
      clientOptions: { name },
    }),
    coherence: 'tracking',
  });
  const cache = createCache({ store, prefix, operationTimeout: '5s' });
  opened.push(() => cache.close());
  return { store, cache };
}

/** A plain SET of the entry's text straight on `node`, as redis-cli or another service would write it. */
async function rawSet(node: RedisServer, cache: Cache, key: string, value: unknown): Promise<void> {
  const template = `template:${Math.random().toString(36).slice(2)}`;
  await cache.set(template, value);
  const text = await redisCommand(node.port, ['GET', `${cache.prefix}:${template}`]);
  expect(typeof text).toBe('string');
  expect(await redisCommand(node.port, ['SET', `${cache.prefix}:${key}`, text as string])).toBe('OK');
}

/** How many tracked connections named `name` the node has. */
async function trackedOn(node: RedisServer, name: string): Promise<number> {
  return String(await redisCommand(node.port, ['CLIENT', 'LIST']))
    .split('\n')
    .filter((line) => line.includes(`name=${name}:tracking `)).length;
}

describe("tieredStore({ coherence: 'tracking' }) behind Redis Sentinel", { timeout: 90_000 }, () => {
  it('tracks on the master: a plain SET there drops the copy, and the next read has the new value', async () => {
    const { store, cache } = trackedCache('l2-cli');
    await store.ready();
    const master = await setup.master();
    expect(await trackedOn(master, 'l2-cli')).toBe(1);
    await cache.set('order', 'v0');
    await fillL1(store, cache, 'order', 'v0');
    await rawSet(master, cache, 'order', 'from another program');
    await waitUntil('the copy is dropped and the new value read', async () => {
      const read = await probe(store, cache, 'order');
      return read.value === 'from another program' && !read.l1Hit;
    });
    expect(store.stats.tracking?.invalidations).toBeGreaterThan(0);
    await fillL1(store, cache, 'order', 'from another program');
  });

  it('SENTINEL FAILOVER: the copies are dropped, tracking follows the promoted master, the demoted one is not trusted', async () => {
    const { store, cache } = trackedCache('l2-fo');
    await store.ready();
    const keys = ['a', 'b', 'c'];
    for (const key of keys) await cache.set(key, `${key} v0`);
    for (const key of keys) await fillL1(store, cache, key, `${key} v0`);
    const oldMaster = await setup.master();
    const changes = store.stats.tracking?.topologyChanges ?? 0;
    const resets = store.stats.l1Resets;

    const newMaster = await setup.failover();
    expect(newMaster).not.toBe(oldMaster);
    await waitUntil(
      'the tracked connection moved',
      () => (store.stats.tracking?.topologyChanges ?? 0) > changes,
      {
        timeoutMs: 20_000,
      },
    );
    // Every copy read from the old master was dropped when tracking went down.
    expect(store.stats.l1Resets).toBeGreaterThan(resets);
    await waitUntil('L1 in use again', () => store.l1InUse, { timeoutMs: 20_000 });
    expect(await trackedOn(newMaster, 'l2-fo')).toBe(1);
    await waitUntil(
      'no tracked connection left on the demoted master',
      async () => (await trackedOn(oldMaster, 'l2-fo')) === 0,
    );

    // Served again through the new master, and a change there is seen.
    await fillL1(store, cache, 'a', 'a v0');
    await rawSet(newMaster, cache, 'a', 'a on the promoted master');
    await waitUntil(
      'a change on the promoted master is seen',
      async () => (await cache.get('a')) === 'a on the promoted master',
    );
    // Another instance's write through Sentinel reaches this L1 too.
    const other = trackedCache('l2-fo-b', cache.prefix);
    await fillL1(store, cache, 'b', 'b v0');
    await other.cache.set('b', 'b from another instance');
    await waitUntil(
      'another instance’s write is seen',
      async () => (await cache.get('b')) === 'b from another instance',
    );
  });

  it('a master demoted behind the Sentinel client’s back is not trusted: ROLE is asked before tracking is up again', async () => {
    // Its own setup: this test makes the master a replica by hand while the Sentinels are paused,
    // so that the store's Sentinel client keeps naming it as master (what happens for a moment
    // in a real failover, until the client hears +switch-master).
    const own = await startSentinelSetup();
    opened.push(() => own.stop());
    const store = tieredStore({
      l1: memoryStore(),
      l2: redisStore({
        sentinel: { name: own.name, sentinelRootNodes: own.sentinelRootNodes },
        clientOptions: { name: 'l2-role' },
      }),
      coherence: 'tracking',
    });
    const cache = createCache({ store, prefix: uniquePrefix('sentinel-role'), operationTimeout: '5s' });
    opened.unshift(() => cache.close());
    await store.ready();
    await cache.set('order', 'v0');
    await fillL1(store, cache, 'order', 'v0');
    const master = await own.master();
    const losses = store.stats.tracking?.losses ?? 0;

    for (const sentinel of own.sentinels) sentinel.pause();
    try {
      // What Sentinel sends to demote a master, pointed at nowhere: the node keeps serving its
      // data as a replica whose link is down, and every client connection is closed.
      await redisCommand(master.port, ['REPLICAOF', '127.0.0.1', '1']);
      await redisCommand(master.port, ['CLIENT', 'KILL', 'TYPE', 'normal']);
      await waitUntil('the tracked connection lost', () => (store.stats.tracking?.losses ?? 0) > losses);
      await waitUntil(
        'the tracked connection back on the same node',
        async () => (await trackedOn(master, 'l2-role')) === 1,
      );
      // Connected with tracking on, named master by the client, but a replica: never trusted.
      // Three topology checks (1 s each) and a reconnection later, still not.
      const until = performance.now() + 3_000;
      while (performance.now() < until) {
        expect(store.l1InUse).toBe(false);
        expect(await cache.get('order')).toBe('v0'); // read from Redis, around L1
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A master again: trusted again at the next check.
      await redisCommand(master.port, ['REPLICAOF', 'NO', 'ONE']);
      await waitUntil('L1 in use again once the node is a master', () => store.l1InUse, { timeoutMs: 5_000 });
      await fillL1(store, cache, 'order', 'v0');
    } finally {
      for (const sentinel of own.sentinels) sentinel.resume();
    }
  });
});
