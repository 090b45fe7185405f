import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import {
  clusterNodeArgs,
  type RedisCluster,
  type RedisServer,
  type RespReply,
  redisCommand,
  startRedisCluster,
  startRedisServer,
  stopAllRedisServers,
  uniquePrefix,
  waitForClusterOk,
} from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInvalidator, type InvalidationEvent, type RedisStreamPublisher } from '../src/index.js';
import { orderEvent, recordingContext, StreamFixtures, waitFor } from './support/streams.js';

// The Redis Streams source and publisher on a real 3-master Redis Cluster started for this file
// (its own redis-server processes, stopped by pid): every command of a stream goes to the master
// of the stream's slot, the blocking read has a connection of its own, and the source follows
// its stream through a failover and through a master that restarts empty.

let cluster: RedisCluster;
const extraNodes: RedisServer[] = [];
const fixtures: StreamFixtures[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterEach(async () => {
  await Promise.allSettled(fixtures.splice(0).map((each) => each.close()));
});
afterAll(async () => {
  await Promise.allSettled(extraNodes.map((node) => node.stop()));
  await cluster?.stop();
  await stopAllRedisServers();
});

const fast = { block: 100, claimIdle: 300, claimInterval: 100, retryDelay: 50, maxRetryDelay: 200 } as const;
/** Cluster events (a failover, a node's return) take a few node timeouts (2 s each here). */
const CLUSTER_WAIT = { timeoutMs: 30_000 };

/** Fixtures whose sources and publishers connect with `{ cluster: { rootNodes } }`. */
function onCluster(): {
  source: StreamFixtures['source'];
  publisher: (stream: string) => RedisStreamPublisher;
  fixtures: StreamFixtures;
} {
  const each = new StreamFixtures(cluster.nodes[0]?.url);
  fixtures.push(each);
  const target = { cluster: { rootNodes: cluster.rootNodes } };
  return {
    source: (options) => each.source({ ...target, ...options }),
    publisher: (stream) => each.publisher({ ...target, stream }),
    fixtures: each,
  };
}

/** Runs one command on the node listening on `port`, with no redirects followed. */
function onNode(port: number, args: string[]): Promise<RespReply> {
  return redisCommand(port, args, { timeoutMs: 2_000 });
}

/** The port of the master serving `key` now, from CLUSTER SLOTS as that node sees it. */
async function ownerOf(key: string, askPort: number): Promise<number> {
  const slot = Number(await onNode(askPort, ['CLUSTER', 'KEYSLOT', key]));
  const ranges = (await onNode(askPort, ['CLUSTER', 'SLOTS'])) as RespReply[][];
  const range = ranges.find(([start, end]) => slot >= Number(start) && slot <= Number(end));
  if (range === undefined) throw new Error(`no master for slot ${slot} of ${key}`);
  return Number((range[2] as RespReply[])[1]);
}

/** One stream name per master: stream keys whose slots are served by three different nodes. */
async function streamPerMaster(label: string): Promise<Array<{ stream: string; port: number }>> {
  const prefix = uniquePrefix(label);
  const found = new Map<number, string>();
  for (let index = 0; found.size < cluster.nodes.length && index < 1_000; index++) {
    const stream = `${prefix}:cdc:${index}`;
    const port = await ownerOf(stream, cluster.nodes[0]?.port ?? 0);
    if (!found.has(port)) found.set(port, stream);
  }
  expect(found.size).toBe(cluster.nodes.length);
  return [...found].map(([port, stream]) => ({ stream, port }));
}

/** CLIENT LIST of one node as records (`name`, `flags`, `cmd`, ...). */
async function clientsOf(port: number): Promise<Array<Record<string, string>>> {
  const list = String(await onNode(port, ['CLIENT', 'LIST']));
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(' ')
          .map((field) => field.split('=', 2) as [string, string]),
      ),
    );
}

describe('redisStreamSource and redisStreamPublisher on a 3-master Redis Cluster', {
  timeout: 120_000,
}, () => {
  it('streams on every master: published events become invalidations; each stream lives and is read on its own slot’s master', async () => {
    const streams = await streamPerMaster('cluster-apply');
    const on = onCluster();
    const cache = createCache({ store: memoryStore(), prefix: 'bff' });
    const cdc = createInvalidator(cache, {
      Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
    });
    const sources = streams.map(({ stream }, index) =>
      on.source({ stream, group: 'bff', consumer: `c${index}-${process.pid}`, ...fast }),
    );
    for (const source of sources) await cdc.subscribe(source);
    for (const [index] of streams.entries()) {
      await cache.set(`orders:detail:${index}`, { index }, { tags: [`order:${index}`] });
      await cache.set(`orders:detail:other${index}`, { index }, { tags: [`order:other${index}`] });
    }

    // A publisher's caller retries what Redis did not take (E_STORE_UNAVAILABLE while the
    // cluster client discovers its slots: slow on a loaded machine).
    const ids = await Promise.all(
      streams.map(({ stream }, index) => appendWhenUp(on.publisher(stream), orderEvent(String(index)))),
    );
    for (const [index] of streams.entries()) {
      await waitFor(
        `order ${index} invalidated`,
        async () => (await cache.get(`orders:detail:${index}`)) === undefined,
      );
      expect(await cache.get(`orders:detail:other${index}`)).toEqual({ index });
    }
    expect(cdc.counters()).toMatchObject({ processed: 3, tagsInvalidated: 3 });

    for (const [index, { stream, port }] of streams.entries()) {
      // The entry is on the slot's master itself (no redirect followed by these raw commands).
      const entries = (await onNode(port, ['XRANGE', stream, '-', '+'])) as Array<[string, string[]]>;
      expect(entries.map(([id]) => id)).toEqual([ids[index]]);
      await waitFor('acknowledged on the master', async () => {
        const pending = (await onNode(port, ['XPENDING', stream, 'bff'])) as RespReply[];
        return Number(pending[0]) === 0 && sources[index]?.health().acked === 1;
      });
      expect(sources[index]?.health()).toMatchObject({ status: 'up', stream, acked: 1, failSafes: 0 });

      // The blocking read is on a connection of its own on that master, not the one that acks.
      const consumer = `c${index}-${process.pid}`;
      await waitFor('the read blocked on its own connection', async () => {
        const clients = await clientsOf(port);
        const reader = clients.filter((client) => client.name === `cdc-read-${consumer}`);
        const main = clients.filter((client) => client.name === `cdc-${consumer}`);
        return (
          reader.length === 1 &&
          reader[0]?.flags?.includes('b') === true &&
          main.length === 1 &&
          main[0]?.id !== reader[0]?.id &&
          main[0]?.flags?.includes('b') === false
        );
      });
    }
    await cdc.close();
    for (const source of sources) expect(source.health().status).toBe('down');
  });

  it('a master that restarts empty: the source fails safe once, creates its group again, and applies the later events', async () => {
    const [{ stream, port }] = (await streamPerMaster('cluster-restart')).slice(-1) as [
      { stream: string; port: number },
    ];
    const node = cluster.nodes.find((each) => each.port === port) as RedisServer;
    const on = onCluster();
    const context = recordingContext();
    const source = on.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    const publisher = on.publisher(stream);
    await appendWhenUp(publisher, orderEvent('before'));
    await waitFor('applied before the restart', () => context.applied.length === 1);

    await node.kill();
    await waitFor('the source reports down', () => source.health().status === 'down', CLUSTER_WAIT);
    await node.restart();
    await waitForClusterOk(cluster.nodes);
    await waitFor(
      'the fail-safe after the group was lost',
      () => context.failSafes.length === 1,
      CLUSTER_WAIT,
    );
    expect(context.failSafes[0]).toMatch(/consumer group bff of .* disappeared/);

    const later = orderEvent('later');
    await appendWhenUp(publisher, later);
    await waitFor('the later event applied', () => context.applied.length === 2, CLUSTER_WAIT);
    expect(context.applied[1]).toEqual(later);
    await waitFor('up again', () => source.health().status === 'up', CLUSTER_WAIT);
    expect(source.health()).toMatchObject({ failSafes: 1 });
  });

  it('a failover to a replica: the source and publisher follow the slot; nothing lost, nothing twice, no fail-safe', async () => {
    const { stream, port } = (await streamPerMaster('cluster-failover'))[0] as {
      stream: string;
      port: number;
    };
    const master = cluster.nodes.find((each) => each.port === port) as RedisServer;
    const replica = await startReplicaOf(master);

    const on = onCluster();
    const context = recordingContext();
    const source = on.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    const publisher = on.publisher(stream);
    const before = [orderEvent('b1'), orderEvent('b2')];
    for (const event of before) await appendWhenUp(publisher, event);
    await waitFor('applied before the failover', () => context.applied.length === 2);
    await waitFor('acknowledged on the master', async () => {
      const pending = (await onNode(port, ['XPENDING', stream, 'bff'])) as RespReply[];
      return Number(pending[0]) === 0;
    });

    // A coordinated failover: the replica catches up with the master, then takes its slots.
    await onNode(replica.port, ['CLUSTER', 'FAILOVER']);
    await waitFor(
      'the replica promoted',
      async () => ((await onNode(replica.port, ['ROLE'])) as RespReply[])[0] === 'master',
      CLUSTER_WAIT,
    );
    await waitFor(
      'the slot served by the new master',
      async () => (await ownerOf(stream, port)) === replica.port,
      CLUSTER_WAIT,
    );

    const after: InvalidationEvent[] = [];
    for (let index = 0; index < 5; index++) {
      const event = orderEvent(`a${index}`);
      await appendWhenUp(publisher, event);
      after.push(event);
    }
    await waitFor('applied after the failover', () => context.applied.length === 7, CLUSTER_WAIT);
    expect(context.changeIds()).toEqual([...before, ...after].map((event) => event.changeId));
    // The stream (and its group) came over with the slot: on the new master, without redirects.
    expect(Number(await onNode(replica.port, ['XLEN', stream]))).toBe(7);
    await waitFor(
      'up, everything acknowledged',
      async () => {
        const pending = (await onNode(replica.port, ['XPENDING', stream, 'bff'])) as RespReply[];
        return Number(pending[0]) === 0 && source.health().status === 'up';
      },
      CLUSTER_WAIT,
    );
    expect(context.failSafes).toEqual([]);
    expect(source.health()).toMatchObject({ failSafes: 0, lost: 0, acked: 7 });
  });
});

/** Appends, retrying while the cluster moves the slot or the node comes back (bounded); the entry id. */
async function appendWhenUp(publisher: RedisStreamPublisher, event: InvalidationEvent): Promise<string> {
  let id = '';
  await waitFor(
    'the publisher appended',
    async () => {
      id = await publisher.append(event);
      return true;
    },
    CLUSTER_WAIT,
  );
  return id;
}

/** A fresh cluster node that joins the cluster and replicates `master` (in sync when it returns). */
async function startReplicaOf(master: RedisServer): Promise<RedisServer> {
  const replica = await startRedisServer({ args: clusterNodeArgs });
  extraNodes.push(replica);
  const masterId = String(await onNode(master.port, ['CLUSTER', 'MYID']));
  await onNode(replica.port, ['CLUSTER', 'MEET', '127.0.0.1', String(master.port)]);
  // REPLICATE needs the master's id known to the replica: gossip brings it within a few beats.
  await waitFor(
    'the replica attached',
    async () => (await onNode(replica.port, ['CLUSTER', 'REPLICATE', masterId])) === 'OK',
    CLUSTER_WAIT,
  );
  await waitFor(
    'the replica in sync',
    async () => /master_link_status:up/.test(String(await onNode(replica.port, ['INFO', 'replication']))),
    CLUSTER_WAIT,
  );
  await waitForClusterOk([...cluster.nodes, replica]);
  return replica;
}
