import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type RedisServer, redisBinary, startRedisServer } from './redis-server.js';
import { type RespReply, redisCommand } from './resp.js';

const execFileAsync = promisify(execFile);
const HOST = '127.0.0.1';
const SLOTS = 16_384;
const CREATE_TIMEOUT_MS = 30_000;
const STATE_TIMEOUT_MS = 20_000;

export interface RedisCluster {
  /** One master per node, in start order. Each can be killed, paused and restarted like any RedisServer. */
  nodes: RedisServer[];
  /** node-redis `createCluster({ rootNodes })` input. */
  rootNodes: Array<{ url: string }>;
  /** Stops every node (by pid) and removes their directories. */
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /** Number of masters, no replicas. Default 3. */
  masters?: number;
}

/** Arguments that make a startRedisServer() node a cluster node (config file in the node's own --dir). */
export function clusterNodeArgs(port: number): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    '2000',
    // Without it a node that was never MEET-ed reports its own address as '' in CLUSTER SLOTS.
    '--cluster-announce-ip',
    HOST,
  ];
}

/**
 * Starts a Redis Cluster of `masters` fresh redis-server processes owned by the caller, assigns all
 * 16384 slots (`redis-cli --cluster create` from 3 masters; CLUSTER ADDSLOTSRANGE + MEET below
 * that) and waits until every node reports `cluster_state:ok`. Bounded; stops what it started on
 * failure.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 1)
    throw new Error(`masters must be a positive integer, got ${masters}`);
  const redisCli = redisBinary('redis-cli');
  const results = await Promise.allSettled(
    Array.from({ length: masters }, () => startRedisServer({ args: clusterNodeArgs })),
  );
  const nodes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    if (masters >= 3) await createWithRedisCli(redisCli, nodes);
    else await createBySlotRanges(nodes);
    await waitForClusterOk(nodes, { timeoutMs: STATE_TIMEOUT_MS });
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, rootNodes: nodes.map((node) => ({ url: node.url })), stop };
}

async function createWithRedisCli(redisCli: string, nodes: RedisServer[]): Promise<void> {
  const args = [
    '--cluster',
    'create',
    ...nodes.map((node) => `${HOST}:${node.port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ];
  try {
    await execFileAsync(redisCli, args, { timeout: CREATE_TIMEOUT_MS });
  } catch (error) {
    const {
      stdout = '',
      stderr = '',
      killed,
    } = error as { stdout?: string; stderr?: string; killed?: boolean };
    throw new Error(
      `redis-cli ${args.join(' ')} ${killed ? `timed out after ${CREATE_TIMEOUT_MS} ms` : 'failed'}: ${
        (error as Error).message
      }\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
}

/** redis-cli refuses fewer than 3 masters; a 1- or 2-master cluster is assigned by hand. */
async function createBySlotRanges(nodes: RedisServer[]): Promise<void> {
  const perNode = Math.ceil(SLOTS / nodes.length);
  await Promise.all(
    nodes.map((node, index) =>
      redisCommand(node.port, [
        'CLUSTER',
        'ADDSLOTSRANGE',
        String(index * perNode),
        String(Math.min(SLOTS, (index + 1) * perNode) - 1),
      ]),
    ),
  );
  const [first, ...others] = nodes;
  for (const node of others) {
    await redisCommand(first?.port ?? 0, ['CLUSTER', 'MEET', HOST, String(node.port)]);
  }
}

/**
 * Waits until every node answers CLUSTER INFO with `cluster_state:ok` and knows all the given
 * nodes. Also useful after killing or restarting a node. Throws with each node's last answer.
 */
export async function waitForClusterOk(
  nodes: RedisServer[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const { timeoutMs = STATE_TIMEOUT_MS } = options;
  const deadline = Date.now() + timeoutMs;
  const last = new Map<number, string>();
  const isOk = async (node: RedisServer) => {
    try {
      const info = String(await redisCommand(node.port, ['CLUSTER', 'INFO'], { timeoutMs: 500 }));
      last.set(node.port, info);
      const known = Number(/^cluster_known_nodes:(\d+)/m.exec(info)?.[1]);
      return /^cluster_state:ok\s*$/m.test(info) && known >= nodes.length;
    } catch (error) {
      last.set(node.port, `(${(error as Error).message})`);
      return false;
    }
  };
  while (Date.now() < deadline) {
    const states = await Promise.all(nodes.map(isOk));
    if (states.every(Boolean)) return;
    await sleep(50);
  }
  const report = nodes
    .map((node) => {
      const info = last.get(node.port) ?? '(no answer)';
      const state = /^cluster_(?:state|known_nodes|slots_assigned):.*$/gm;
      return `  ${node.url} (pid ${node.pid}): ${info.match(state)?.join(', ') ?? info.trim()}`;
    })
    .join('\n');
  throw new Error(`Redis Cluster not ok after ${timeoutMs} ms:\n${report}`);
}

/** The port of the master serving each slot, as the node on `port` sees it (CLUSTER SLOTS). */
export async function clusterSlotOwners(port: number): Promise<(slot: number) => number> {
  const ranges = (await redisCommand(port, ['CLUSTER', 'SLOTS'])) as RespReply[][];
  const owned = ranges.map(([start, end, master]) => ({
    start: Number(start),
    end: Number(end),
    port: Number((master as RespReply[])[1]),
  }));
  return (slot) => {
    const range = owned.find((candidate) => slot >= candidate.start && slot <= candidate.end);
    if (range === undefined) throw new Error(`no master for slot ${slot}`);
    return range.port;
  };
}

/** The slot of `key`, computed by Redis itself (CLUSTER KEYSLOT on the node on `port`). */
export async function clusterKeySlot(port: number, key: string): Promise<number> {
  return Number(await redisCommand(port, ['CLUSTER', 'KEYSLOT', key]));
}

/**
 * Moves one slot and its keys to the master on `toPort`, the way a resharding does (redis-cli
 * --cluster reshard, one slot): IMPORTING / MIGRATING, MIGRATE of every key (which deletes it on
 * the source), then CLUSTER SETSLOT NODE on every node. Resolves once every node's CLUSTER SLOTS
 * names the new owner (bounded).
 */
export async function moveClusterSlot(nodes: RedisServer[], slot: number, toPort: number): Promise<void> {
  const [first] = nodes;
  if (first === undefined) throw new Error('moveClusterSlot: no nodes');
  const fromPort = (await clusterSlotOwners(first.port))(slot);
  if (fromPort === toPort) return;
  const [fromId, toId] = await Promise.all(
    [fromPort, toPort].map(async (port) => String(await redisCommand(port, ['CLUSTER', 'MYID']))),
  );
  const at = String(slot);
  await redisCommand(toPort, ['CLUSTER', 'SETSLOT', at, 'IMPORTING', fromId as string]);
  await redisCommand(fromPort, ['CLUSTER', 'SETSLOT', at, 'MIGRATING', toId as string]);
  for (;;) {
    const keys = (await redisCommand(fromPort, ['CLUSTER', 'GETKEYSINSLOT', at, '100'])) as string[];
    if (keys.length === 0) break;
    await redisCommand(
      fromPort,
      ['MIGRATE', HOST, String(toPort), '', '0', '5000', 'KEYS', ...keys.map(String)],
      { timeoutMs: 10_000 },
    );
  }
  // The new owner first (it then answers for the slot), then the old one, then the others.
  const others = nodes.map((node) => node.port).filter((port) => port !== fromPort && port !== toPort);
  for (const port of [toPort, fromPort, ...others]) {
    await redisCommand(port, ['CLUSTER', 'SETSLOT', at, 'NODE', toId as string]);
  }
  const deadline = Date.now() + STATE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const owners = await Promise.all(nodes.map(async (node) => (await clusterSlotOwners(node.port))(slot)));
    if (owners.every((owner) => owner === toPort)) return;
    await sleep(50);
  }
  throw new Error(
    `slot ${slot}: not every node names ${HOST}:${toPort} as its owner after ${STATE_TIMEOUT_MS} ms`,
  );
}

/**
 * Starts one more cluster node (owned by the caller: stop it by pid) and makes it a replica of the
 * master on `masterPort` (CLUSTER MEET, CLUSTER REPLICATE). Resolves once its replication link is
 * up (bounded). For failover tests: `CLUSTER FAILOVER` on the replica then swaps the roles.
 */
export async function addClusterReplica(nodes: RedisServer[], masterPort: number): Promise<RedisServer> {
  const replica = await startRedisServer({ args: clusterNodeArgs });
  try {
    const masterId = String(await redisCommand(masterPort, ['CLUSTER', 'MYID']));
    await redisCommand(replica.port, ['CLUSTER', 'MEET', HOST, String(masterPort)]);
    const deadline = Date.now() + STATE_TIMEOUT_MS;
    let last = '';
    let replicating = false;
    for (;;) {
      try {
        // Refused until the replica has learnt of the master by gossip.
        if (!replicating) await redisCommand(replica.port, ['CLUSTER', 'REPLICATE', masterId]);
        replicating = true;
        const info = String(await redisCommand(replica.port, ['INFO', 'replication']));
        last = info;
        const known = await Promise.all(
          nodes.map(async (node) => String(await redisCommand(node.port, ['CLUSTER', 'NODES']))),
        );
        if (
          /^master_link_status:up/m.test(info) &&
          known.every((table) => table.includes(`:${replica.port}@`))
        )
          return replica;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`replica ${replica.url} of ${masterPort} not in sync: ${last}`);
      await sleep(50);
    }
  } catch (error) {
    await replica.stop();
    throw error;
  }
}
