import {
  type RedisServer,
  redisCommand,
  replicasCaughtUp,
  type SentinelSetup,
  startSentinelSetup,
  uniquePrefix,
} from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Instance,
  now,
  type ReadRecord,
  report,
  sleep,
  startInstances,
  stopAllInstances,
  waitUntil,
} from './support/instances.js';
import {
  expectNoStale,
  fillL1,
  GUARANTEE_MS,
  LATENCY_LIMIT_MS,
  propagation,
} from './support/tracking-checks.js';

// `coherence: 'tracking'` behind Redis Sentinel with real processes: A reads, B writes, and the
// master is failed over in the middle: by SENTINEL FAILOVER, or killed (SIGKILL) and failed over
// by the Sentinels once they see it down.
//
// What a failover can keep (see the Sentinel tests of @org/cache-redis): Redis replicates
// asynchronously, so a write the old master acknowledged during the switch may be discarded with
// its data, and a client that has not heard of the switch yet reads from the old master. The
// guarantee is checked against the writes that Redis does keep: those acknowledged before the
// failover began (the replica is then checked to have caught up, as WAIT would) and those made
// once both A and B had switched to the new master. A read of A that starts GUARANTEE_MS after
// such a write's acknowledgement must not return an older version.

const setups: SentinelSetup[] = [];
afterEach(async () => {
  await stopAllInstances();
  await Promise.all(setups.splice(0).map((setup) => setup.stop()));
});

interface Write {
  version: number;
  start: number;
  end: number;
}

/** Reads of `key` that started GUARANTEE_MS after a kept write's acknowledgement and returned an older version. */
function staleAgainst(records: ReadRecord[], key: string, kept: Write[]): ReadRecord[] {
  return records.filter((read) => {
    if (read.key !== key || read.error !== undefined || typeof read.value !== 'number') return false;
    const value = read.value;
    return kept.some((write) => write.end + GUARANTEE_MS < read.start && value < write.version);
  });
}

/** Moves the master away: an ordered failover, or a killed master the Sentinels fail over. */
type Disruption = 'SENTINEL FAILOVER' | 'SIGKILL';

async function disrupt(setup: SentinelSetup, oldMaster: RedisServer, how: Disruption): Promise<RedisServer> {
  if (how === 'SENTINEL FAILOVER') return setup.failover();
  await oldMaster.kill();
  // The Sentinels must first see it down (down-after 1.5 s), then agree and promote the replica.
  return setup.waitForNewMaster(oldMaster, { timeoutMs: 30_000 });
}

describe("tieredStore({ coherence: 'tracking' }) behind Redis Sentinel, across processes", {
  timeout: 120_000,
}, () => {
  it.each<Disruption>(['SENTINEL FAILOVER', 'SIGKILL'])(
    '%s while B writes and A reads: 0 stale reads against every write Redis keeps, L1 in use again after',
    async (how) => {
      const setup = await startSentinelSetup();
      setups.push(setup);
      const shared = {
        url: 'unused',
        channel: 'unused',
        prefix: uniquePrefix('sentinel-tracking-failover'),
        coherence: 'tracking' as const,
        sentinel: { name: setup.name, sentinelRootNodes: setup.sentinelRootNodes },
      };
      const [a, b] = (await startInstances([
        { name: 'A', ...shared },
        { name: 'B', ...shared },
      ])) as [Instance, Instance];
      await waitUntil('A tracking', async () => (await a.stats()).l1InUse, { timeoutMs: 20_000 });
      const keys = ['orders:1', 'orders:2', 'orders:3'];
      for (const key of keys) await b.set(key, 0);
      for (const key of keys) await fillL1(a, key, 0);
      const before = await a.stats();
      const oldMaster = await setup.master();
      await a.watch(keys, { readers: 4, intervalMs: 1, afterIo: true });

      const writes = new Map<string, Write[]>(keys.map((key) => [key, []]));
      let version = 0;
      const writeRound = async () => {
        version++;
        for (const key of keys) {
          const timed = await b.set(key, version);
          writes.get(key)?.push({ version, ...timed });
        }
        await sleep(5);
      };
      const started = now();
      while (now() - started < 1_500) await writeRound();
      const failoverBegan = now();
      let switched = Number.POSITIVE_INFINITY;
      const failover = (async () => {
        await replicasCaughtUp(
          oldMaster,
          setup.nodes.filter((node) => node !== oldMaster),
        );
        return disrupt(setup, oldMaster, how);
      })();
      let newMaster: RedisServer | undefined;
      void failover.then((master) => {
        newMaster = master;
      });
      // Writing on through the switch, until both have switched (B's writes land on the new master,
      // and A's client has followed, which moves its tracked connection), then 1.5 s more. Until A
      // follows, A reads from the old master like any Sentinel client that has not heard yet: that
      // is Sentinel's window, not tracking's.
      let bSwitched = false;
      let bSwitchedAt = Number.POSITIVE_INFINITY;
      let aSwitched = false;
      const writeUntil = now() + 60_000;
      while (now() < writeUntil) {
        await writeRound();
        if (newMaster !== undefined && !bSwitched) {
          const stored = await redisCommand(newMaster.port, ['GET', `${shared.prefix}:${keys[0]}`]);
          bSwitched = typeof stored === 'string' && JSON.parse(stored).value === version;
          if (bSwitched) bSwitchedAt = now();
        }
        if (newMaster !== undefined && !aSwitched) {
          aSwitched = (await a.stats()).tracking.topologyChanges > before.tracking.topologyChanges;
        }
        if (bSwitched && aSwitched && switched === Number.POSITIVE_INFINITY) switched = now();
        if (now() - switched > 1_500) break;
      }
      expect(switched, 'A and B never both switched to the new master').toBeLessThan(
        Number.POSITIVE_INFINITY,
      );
      await sleep(50);
      const records = await a.unwatch();
      const after = await a.stats();

      const kept = (key: string) =>
        (writes.get(key) ?? []).filter((write) => write.end < failoverBegan || write.start > switched);
      const stale = keys.flatMap((key) => staleAgainst(records, key, kept(key)));
      const inWindow = (writes.get(keys[0] as string) ?? []).length - kept(keys[0] as string).length;
      // Reported, not judged: reads older than writes B made on the new master before A had heard
      // of it (A's client, tracked or not, still read the old master then).
      const beforeAHeard = keys.flatMap((key) =>
        staleAgainst(
          records,
          key,
          (writes.get(key) ?? []).filter((write) => write.start > bSwitchedAt && write.start <= switched),
        ),
      ).length;
      report(
        `tracking behind Sentinel: ${how} while B writes 3 keys and A reads them`,
        `${records.length} reads on A (${records.filter((read) => read.error).length} errors, ${after.l1Hits - before.l1Hits} L1 hits), ${stale.length} stale; ${version} versions, ${inWindow} of them written during the switch (not judged; ${beforeAHeard} reads older than B's writes to the new master before A had switched); failover began -> both switched ${(switched - failoverBegan).toFixed(0)} ms; topology changes +${after.tracking.topologyChanges - before.tracking.topologyChanges}, l1Resets +${after.l1Resets - before.l1Resets}`,
      );
      expectNoStale(stale, records.length, 'reads through the failover');
      expect(records.length).toBeGreaterThan(1_000);
      expect(kept(keys[0] as string).some((write) => write.start > switched)).toBe(true);
      expect(after.tracking.topologyChanges).toBeGreaterThan(before.tracking.topologyChanges);
      expect(after.l1Resets).toBeGreaterThan(before.l1Resets);

      await waitUntil('A’s L1 is in use again', async () => (await a.stats()).l1InUse, { timeoutMs: 20_000 });
      const key = keys[0] as string;
      await fillL1(a, key, version);
      const propagated = await propagation(a, key, version + 1, () => b.set(key, version + 1));
      expect(propagated.fromEnd).toBeLessThan(LATENCY_LIMIT_MS);
    },
  );
});
