import {
  clusterKeySlot,
  clusterSlotOwners,
  moveClusterSlot,
  redisCommand,
  uniquePrefix,
  usePrivateCluster,
} from '@org/cache-test-support';
import { describe, expect, it } from 'vitest';
import {
  type Instance,
  now,
  percentile,
  report,
  sleep,
  startInstances,
  stopAllInstances,
  type Timed,
  waitUntil,
} from './support/instances.js';
import {
  expectCoherentThroughKills,
  expectNoStale,
  fillL1,
  LATENCY_LIMIT_MS,
  olderThanAcknowledged,
  propagation,
  redisCliSet,
} from './support/tracking-checks.js';

// `coherence: 'tracking'` with real processes on a real 3-master Redis Cluster: each instance has
// one tracked connection per master. The guarantee of multi-process-tracking.test.ts (a read that
// starts GUARANTEE_MS after a write's acknowledgement never returns the value it replaced) for
// keys spread over every master, whoever writes, across tracked connections killed on one master.

// The instances (child processes) go after every test, and before their cluster does.
const privateCluster = usePrivateCluster({ afterEach: stopAllInstances });

const port = (index: number) => privateCluster.cluster.nodes[index]?.port ?? 0;

async function setUp(label: string) {
  const shared = {
    url: 'redis://unused',
    rootNodes: privateCluster.cluster.rootNodes,
    channel: 'unused',
    prefix: uniquePrefix(label),
    coherence: 'tracking' as const,
  };
  const [a, b] = (await startInstances([
    { name: 'A', ...shared },
    { name: 'B', ...shared },
  ])) as [Instance, Instance];
  return { a, b, prefix: shared.prefix };
}

/** Cache keys (`<base>:<n>`) whose stored keys land on each master: port -> key. */
async function keysPerMaster(prefix: string, base: string, perMaster = 1): Promise<Map<number, string[]>> {
  const owners = await clusterSlotOwners(port(0));
  const byPort = new Map<number, string[]>(privateCluster.cluster.nodes.map((node) => [node.port, []]));
  for (let index = 0; index < 500; index++) {
    const key = `${base}:${index}`;
    const keys = byPort.get(owners(await clusterKeySlot(port(0), `${prefix}:${key}`))) as string[];
    if (keys.length < perMaster) keys.push(key);
    if ([...byPort.values()].every((each) => each.length === perMaster)) return byPort;
  }
  throw new Error(`no ${perMaster} keys per master among ${base}:0..499`);
}

describe("tieredStore({ coherence: 'tracking' }) across processes on a Redis Cluster", {
  timeout: 90_000,
}, () => {
  it("B's set and a redis-cli -c SET drop A's copy on every master: A's next read fetches the new value", async () => {
    const { a, b, prefix } = await setUp('cluster-tracking-set');
    const perMaster = await keysPerMaster(prefix, 'orders:detail');
    const keys = [...perMaster.values()].flat();
    await b.set('orders:template', 'from redis-cli');
    const envelope = String(
      await redisCommand(
        (await clusterSlotOwners(port(0)))(await clusterKeySlot(port(0), `${prefix}:orders:template`)),
        ['GET', `${prefix}:orders:template`],
      ),
    );
    const fromEnd: number[] = [];
    for (let trial = 1; trial <= 10; trial++) {
      for (const key of keys) {
        await b.set(key, { version: trial - 1 });
        await fillL1(a, key, { version: trial - 1 });
        const measured = await propagation(a, key, { version: trial }, () => b.set(key, { version: trial }));
        expect(measured.seen).toEqual([{ version: trial - 1 }]);
        fromEnd.push(measured.fromEnd);
      }
    }
    const cli: number[] = [];
    for (const key of keys) {
      await fillL1(a, key, { version: 10 });
      const measured = await propagation(a, key, 'from redis-cli', () =>
        redisCliSet(port(0), `${prefix}:${key}`, envelope, { cluster: true }),
      );
      expect(measured.seen).toEqual([{ version: 10 }]);
      cli.push(measured.fromEnd);
    }
    const stats = await a.stats();
    report(
      "tracking on a 3-master cluster: B's set -> seen by A (10 trials x 1 key per master, A polling every 1 ms)",
      `p50 ${percentile(fromEnd, 50).toFixed(2)} ms, p99 ${percentile(fromEnd, 99).toFixed(2)} ms, max ${Math.max(...fromEnd).toFixed(2)} ms; redis-cli -c SET -> seen: max ${Math.max(...cli).toFixed(2)} ms; A received ${stats.tracking.invalidations} invalidations`,
    );
    expect(percentile(fromEnd, 99)).toBeLessThan(LATENCY_LIMIT_MS);
    expect(Math.max(...cli)).toBeLessThan(LATENCY_LIMIT_MS);
    expect(stats.tracking.invalidations).toBeGreaterThanOrEqual(33);
    expect(stats.tracking.losses).toBe(0);
    expect(stats.tracking.topologyChanges).toBe(0);
    expect(stats.l1InUse).toBe(true);
  });

  it('A’s tracked connection on one master is killed again and again (CLIENT KILL) while B writes keys on every master: 0 stale reads, L1 back in use after', async () => {
    const { a, b } = await setUp('cluster-tracking-kill');
    const perMaster = await keysPerMaster(a.config.prefix, 'orders:series', 2);
    const keys = [...perMaster.values()].flat();
    const versions = await expectCoherentThroughKills(a, b, keys, {
      port: port(1),
      versions: 60,
      label:
        'tracking on a 3-master cluster: CLIENT KILL of A’s tracked connection on one master every ~15 ms while B writes 6 keys (2 per master)',
    });
    // Every master tracks again, the killed one included: a write on each is seen.
    for (const key of [...perMaster.values()].map((each) => each[0] as string)) {
      const last = versions.get(key) ?? 0;
      await fillL1(a, key, last);
      const propagated = await propagation(a, key, last + 1, () => b.set(key, last + 1));
      expect(propagated.fromEnd, `${key}: propagation after the kills`).toBeLessThan(LATENCY_LIMIT_MS);
    }
  });

  it('a slot is moved back and forth between masters (resharding) while B writes and A reads: 0 stale reads, L1 in use again after', async () => {
    const { a, b, prefix } = await setUp('cluster-tracking-reshard');
    // Two keys in one slot (hash tag) that moves, and one key on each master that stays.
    const moving = ['orders:{moving}:1', 'orders:{moving}:2'];
    const slot = await clusterKeySlot(port(0), `${prefix}:${moving[0]}`);
    const home = (await clusterSlotOwners(port(0)))(slot);
    const away = [port(0), port(1), port(2)].find((candidate) => candidate !== home) as number;
    const staying = [...(await keysPerMaster(prefix, 'orders:staying')).values()].flat();
    const keys = [...moving, ...staying];
    for (const key of keys) await b.set(key, 0);
    for (const key of keys) await fillL1(a, key, 0);
    const before = await a.stats();
    await a.watch(keys, { readers: 4, intervalMs: 1, afterIo: true });
    const moves = { stop: false, count: 0 };
    const mover = (async () => {
      while (!moves.stop) {
        await moveClusterSlot(privateCluster.cluster.nodes, slot, moves.count % 2 === 0 ? away : home);
        moves.count++;
        await sleep(100);
      }
    })();
    const writes = new Map<string, Timed[]>(keys.map((key) => [key, []]));
    try {
      const started = now();
      for (let version = 1; version <= 60 || now() - started < 3_000; version++) {
        for (const key of keys) writes.get(key)?.push(await b.set(key, version));
        await sleep(3);
      }
    } finally {
      moves.stop = true;
      await mover;
      if (moves.count % 2 === 1) await moveClusterSlot(privateCluster.cluster.nodes, slot, home);
    }
    await sleep(50);
    const records = await a.unwatch();
    const after = await a.stats();
    const stale = keys.flatMap((key) => olderThanAcknowledged(records, key, writes.get(key) ?? []));
    report(
      'tracking on a 3-master cluster: one slot (2 of 5 keys) moved between two masters every ~100 ms while B writes',
      `${records.length} reads on A (${records.filter((read) => read.error).length} errors, ${after.l1Hits - before.l1Hits} L1 hits), ${stale.length} stale; ${moves.count} moves, topology changes +${after.tracking.topologyChanges - before.tracking.topologyChanges}, invalidations +${after.tracking.invalidations - before.tracking.invalidations}, l1Resets +${after.l1Resets - before.l1Resets}`,
    );
    expectNoStale(stale, records.length, 'reads during the resharding');
    expect(records.length).toBeGreaterThan(1_000);
    expect(moves.count).toBeGreaterThan(3);
    expect(after.tracking.topologyChanges).toBeGreaterThan(before.tracking.topologyChanges);
    await waitUntil('A’s L1 is in use again', async () => (await a.stats()).l1InUse);
    for (const key of [moving[0] as string, staying[0] as string]) {
      const last = (writes.get(key) ?? []).length;
      await fillL1(a, key, last);
      const propagated = await propagation(a, key, last + 1, () => b.set(key, last + 1));
      expect(propagated.fromEnd).toBeLessThan(LATENCY_LIMIT_MS);
    }
  });

  it('a tag invalidated by B is seen on A’s next tagged read, whichever masters hold the entries and tokens', async () => {
    const { a, b } = await setUp('cluster-tracking-tags');
    const entries = Array.from({ length: 6 }, (_, index) => `catalog:bundle:${index}`);
    for (const [index, key] of entries.entries()) {
      await b.set(key, `bundle ${index}`, { tags: [`product:${index % 3}`] });
    }
    for (const [index, key] of entries.entries()) await fillL1(a, key, `bundle ${index}`);
    expect(await a.probe('catalog:bundle:0')).toEqual({ value: 'bundle 0', l1Hit: true, l2Read: false });
    const measured = await propagation(a, 'catalog:bundle:0', undefined, () =>
      b.invalidateTags(['product:0']),
    );
    report(
      'tracking on a 3-master cluster: B invalidates a tag -> A’s dependent misses',
      `${measured.fromEnd.toFixed(2)} ms after B's call ended`,
    );
    expect(measured.fromEnd).toBeLessThan(LATENCY_LIMIT_MS);
    expect(await a.get('catalog:bundle:3')).toBeUndefined();
    for (const index of [1, 2, 4, 5]) {
      expect(await a.probe(`catalog:bundle:${index}`)).toEqual({
        value: `bundle ${index}`,
        l1Hit: true,
        l2Read: false,
      });
    }
  });
});
