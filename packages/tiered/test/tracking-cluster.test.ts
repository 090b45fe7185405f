import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import {
  addClusterReplica,
  clusterKeySlot,
  clusterSlotOwners,
  moveClusterSlot,
  redisBinary,
  redisCommand,
  uniquePrefix,
  usePrivateCluster,
} from '@org/cache-test-support';
import { type TieredStore, tieredStore } from '@org/cache-tiered';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from './support/instances.js';
import { fillL1, probe } from './support/l1-probe.js';

// `coherence: 'tracking'` on a real 3-master Redis Cluster, in one process: one tracked
// connection per master, each read sent to its key's master; writes by redis-cli on any master, a
// flush of one master, a killed tracked connection and a slot moved to another master (resharding).

const run = promisify(execFile);
const privateCluster = usePrivateCluster();
const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

const port = (index: number) => privateCluster.cluster.nodes[index]?.port ?? 0;

function trackedCache(label: string): { store: TieredStore; cache: Cache } {
  const store = tieredStore({
    l1: memoryStore(),
    // Named, so its tracked connections are `l2-A:tracking` in each master's CLIENT LIST.
    l2: redisStore({
      cluster: { rootNodes: privateCluster.cluster.rootNodes },
      clientOptions: { name: 'l2-A' },
    }),
    coherence: 'tracking',
  });
  const cache = createCache({ store, prefix: uniquePrefix(label), operationTimeout: '5s' });
  opened.push(() => cache.close());
  return { store, cache };
}

/** `redis-cli -c`: a program that knows nothing of this SDK, following redirections itself. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(redisBinary('redis-cli'), ['-c', '-p', String(port(0)), ...args]);
  return stdout.trim();
}

/** The port of the master serving the stored key `fullKey`. */
async function ownerOf(fullKey: string): Promise<number> {
  return (await clusterSlotOwners(port(0)))(await clusterKeySlot(port(0), fullKey));
}

/** One key per master: `orders:<n>` names whose stored keys land on each of the 3 masters. */
async function keyPerMaster(prefix: string): Promise<Map<number, string>> {
  const byPort = new Map<number, string>();
  for (let index = 0; byPort.size < privateCluster.cluster.nodes.length && index < 200; index++) {
    const key = `orders:${index}`;
    const owner = await ownerOf(`${prefix}:${key}`);
    if (!byPort.has(owner)) byPort.set(owner, key);
  }
  expect(byPort.size).toBe(3);
  return byPort;
}

/** The stored envelope of a value, written by the cache itself, for redis-cli to write elsewhere. */
async function envelopeOf(cache: Cache, value: unknown): Promise<string> {
  const template = `template:${Math.random().toString(36).slice(2)}`;
  await cache.set(template, value);
  return cli('GET', `${cache.prefix}:${template}`);
}

describe("tieredStore({ coherence: 'tracking' }) on a Redis Cluster, in one process", {
  timeout: 60_000,
}, () => {
  it('keys on all 3 masters are read into L1; a redis-cli SET on any master drops that copy only', async () => {
    const { store, cache } = trackedCache('cluster-tracking-cli');
    await store.ready();
    const keys = [...(await keyPerMaster(cache.prefix)).values()];
    for (const key of keys) await cache.set(key, `${key} v0`);
    for (const key of keys) await fillL1(store, cache, key, `${key} v0`);
    // getMany over the 3 masters, in the order asked, all from L1.
    const hits = store.stats.l1Hits;
    expect(await cache.getMany([...keys].reverse())).toEqual([...keys].reverse().map((key) => `${key} v0`));
    expect(store.stats.l1Hits - hits).toBe(3);

    for (const [index, key] of keys.entries()) {
      const envelope = await envelopeOf(cache, `${key} from redis-cli`);
      expect(await cli('SET', `${cache.prefix}:${key}`, envelope)).toBe('OK');
      // The push travels on the master's tracked connection: seen within a bound that only a
      // broken invalidation path would exceed (10 s on a loaded machine; usually < 5 ms).
      await waitUntil(`${key} (master ${index + 1}) dropped from L1`, async () => {
        const read = await probe(store, cache, key);
        return !read.l1Hit && read.value === `${key} from redis-cli`;
      });
      // The other masters' copies are untouched.
      for (const other of keys.slice(index + 1)) {
        expect(await probe(store, cache, other)).toEqual({ value: `${other} v0`, l1Hit: true });
      }
    }
    expect(store.stats.tracking?.invalidations).toBeGreaterThanOrEqual(3);
    expect(store.stats.tracking?.topologyChanges).toBe(0);
    expect(store.l1InUse).toBe(true);
  });

  it('getMany of 60 keys over every master returns them in order, then from L1; a change on one master misses only there', async () => {
    const { store, cache } = trackedCache('cluster-tracking-many');
    await store.ready();
    const keys = Array.from({ length: 60 }, (_, index) => `item:${index}`);
    const owners = await Promise.all(keys.map((key) => ownerOf(`${cache.prefix}:${key}`)));
    expect(new Set(owners).size).toBe(3);
    await cache.setMany(keys.filter((_, index) => index % 5 !== 0).map((key) => ({ key, value: key })));
    const expected = keys.map((key, index) => (index % 5 === 0 ? undefined : key));
    const order = [...keys.keys()].sort((a, b) => ((a * 37) % 61) - ((b * 37) % 61));
    expect(await cache.getMany(order.map((index) => keys[index] as string))).toEqual(
      order.map((index) => expected[index]),
    );
    const hits = store.stats.l1Hits;
    expect(await cache.getMany(keys)).toEqual(expected);
    expect(store.stats.l1Hits - hits).toBe(48);

    const changed = keys[1] as string;
    await cli('DEL', `${cache.prefix}:${changed}`);
    await waitUntil('the DEL reaches L1', async () => (await cache.get(changed)) === undefined);
    const again = store.stats.l1Hits;
    expect(await cache.getMany(keys)).toEqual(
      expected.map((value, index) => (index === 1 ? undefined : value)),
    );
    expect(store.stats.l1Hits - again).toBe(47);
  });

  it('a FLUSHALL on one master empties L1 (copies from every master); L1 fills again after', async () => {
    const { store, cache } = trackedCache('cluster-tracking-flush');
    await store.ready();
    const perMaster = await keyPerMaster(cache.prefix);
    for (const key of perMaster.values()) await cache.set(key, key);
    for (const key of perMaster.values()) await fillL1(store, cache, key, key);
    await redisCommand(port(1), ['FLUSHALL']);
    await waitUntil('the flush reaches L1', () => (store.stats.tracking?.flushes ?? 0) >= 1);
    for (const [owner, key] of perMaster) {
      const read = await probe(store, cache, key);
      expect(read.l1Hit, key).toBe(false);
      expect(read.value, key).toBe(owner === port(1) ? undefined : key);
    }
    const survivor = [...perMaster].find(([owner]) => owner !== port(1))?.[1] as string;
    await fillL1(store, cache, survivor, survivor);
    expect(store.l1InUse).toBe(true);
  });

  it("a master's tracked connection killed (CLIENT KILL): L1 is emptied and used again once that master tracks again", async () => {
    const { store, cache } = trackedCache('cluster-tracking-kill');
    await store.ready();
    const perMaster = await keyPerMaster(cache.prefix);
    for (const key of perMaster.values()) await cache.set(key, key);
    for (const key of perMaster.values()) await fillL1(store, cache, key, key);
    const before = { ...store.stats, tracking: { ...store.stats.tracking } };
    const list = String(await redisCommand(port(2), ['CLIENT', 'LIST']));
    const ids = [...list.matchAll(/\bid=(\d+)\b.*\bname=l2-A:tracking\b/g)].map(
      (match) => match[1] as string,
    );
    expect(ids.length).toBeGreaterThanOrEqual(1);
    for (const id of ids) await redisCommand(port(2), ['CLIENT', 'KILL', 'ID', id]);
    await waitUntil(
      'the loss is seen',
      () => (store.stats.tracking?.losses ?? 0) > (before.tracking.losses ?? 0),
    );
    expect(store.stats.l1Resets).toBeGreaterThan(before.l1Resets);
    await waitUntil('L1 in use again', () => store.l1InUse);
    // Every copy went with the loss: the first read of each is from Redis again.
    for (const key of perMaster.values()) expect((await probe(store, cache, key)).l1Hit).toBe(false);
    for (const key of perMaster.values()) await fillL1(store, cache, key, key);
    // The reconnected master's connection tracks again: a change there is seen.
    const onKilled = perMaster.get(port(2)) as string;
    await cli('SET', `${cache.prefix}:${onKilled}`, await envelopeOf(cache, 'after the kill'));
    await waitUntil(
      'a change on the reconnected master is seen',
      async () => (await cache.get(onKilled)) === 'after the kill',
    );
  });

  it('a slot moved to another master (resharding): the copy is dropped, the new map is taken, and the key is tracked on its new master', async () => {
    const { store, cache } = trackedCache('cluster-tracking-reshard');
    await store.ready();
    const perMaster = await keyPerMaster(cache.prefix);
    const [fromPort, key] = [...perMaster][0] as [number, string];
    const toPort = [port(0), port(1), port(2)].find((candidate) => candidate !== fromPort) as number;
    const slot = await clusterKeySlot(port(0), `${cache.prefix}:${key}`);
    for (const each of perMaster.values()) await cache.set(each, `${each} v0`);
    for (const each of perMaster.values()) await fillL1(store, cache, each, `${each} v0`);
    const invalidations = store.stats.tracking?.invalidations ?? 0;
    try {
      await moveClusterSlot(privateCluster.cluster.nodes, slot, toPort);
      // The only write was MIGRATE's delete on the old master: its push is what dropped the copy.
      await waitUntil(
        'the old master pushed the invalidation',
        () => (store.stats.tracking?.invalidations ?? 0) > invalidations,
      );
      // MIGRATE deleted the key on its old master, which pushed the invalidation; the periodic
      // check (every 1 s) then finds the masters' new map: L1 dropped, rebuilt, used again.
      await waitUntil('the new slot map is taken', () => (store.stats.tracking?.topologyChanges ?? 0) >= 1);
      await waitUntil('L1 in use again', () => store.l1InUse);
      expect(await ownerOf(`${cache.prefix}:${key}`)).toBe(toPort);
      await fillL1(store, cache, key, `${key} v0`);
      await cli('SET', `${cache.prefix}:${key}`, await envelopeOf(cache, 'on the new master'));
      await waitUntil(
        'a change on the new master is seen',
        async () => (await cache.get(key)) === 'on the new master',
      );
    } finally {
      await moveClusterSlot(privateCluster.cluster.nodes, slot, fromPort);
    }
  });
  // Last: it leaves a replica as the master of one shard (the tests above use the original masters).
  it('a failover (CLUSTER FAILOVER on a replica): the copies are dropped, the promoted master is tracked, the demoted one is not read', async () => {
    const { store, cache } = trackedCache('cluster-tracking-failover');
    await store.ready();
    const perMaster = await keyPerMaster(cache.prefix);
    const demoted = port(1);
    const key = perMaster.get(demoted) as string;
    const replica = await addClusterReplica(privateCluster.cluster.nodes, demoted);
    opened.push(() => replica.stop());
    for (const each of perMaster.values()) await cache.set(each, `${each} v0`);
    for (const each of perMaster.values()) await fillL1(store, cache, each, `${each} v0`);
    const changes = store.stats.tracking?.topologyChanges ?? 0;
    const resets = store.stats.l1Resets;
    await redisCommand(replica.port, ['CLUSTER', 'FAILOVER']);
    await waitUntil('every node names the replica as the new master', async () => {
      const owners = await Promise.all(
        [...privateCluster.cluster.nodes, replica].map(async (node) =>
          (await clusterSlotOwners(node.port))(await clusterKeySlot(node.port, `${cache.prefix}:${key}`)),
        ),
      );
      return owners.every((owner) => owner === replica.port);
    });
    // Seen by the next check (every 1 s) or by a read the demoted master answers with MOVED.
    await waitUntil('the new slot map is taken', async () => {
      await cache.get(key);
      return (store.stats.tracking?.topologyChanges ?? 0) > changes;
    });
    await waitUntil('L1 in use again', () => store.l1InUse);
    expect(store.stats.l1Resets).toBeGreaterThan(resets);
    // One tracked connection on the promoted master, none left on the demoted one.
    const tracked = async (nodePort: number) =>
      String(await redisCommand(nodePort, ['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => line.includes('name=l2-A:tracking ')).length;
    expect(await tracked(replica.port)).toBe(1);
    await waitUntil(
      'the demoted master’s tracked connection is closed',
      async () => (await tracked(demoted)) === 0,
    );
    await fillL1(store, cache, key, `${key} v0`);
    await cli('SET', `${cache.prefix}:${key}`, await envelopeOf(cache, 'on the promoted master'));
    await waitUntil(
      'a change on the promoted master is seen',
      async () => (await cache.get(key)) === 'on the promoted master',
    );
  });
});
