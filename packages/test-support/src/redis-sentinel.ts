import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisServer, startRedisServer } from './redis-server.js';
import { type RespReply, redisCommand } from './resp.js';
import { waitFor } from './timing.js';

const HOST = '127.0.0.1';
const STATE_TIMEOUT_MS = 30_000;

export interface SentinelSetup {
  /** The master's name, as Sentinel monitors it (`createSentinel({ name })`). */
  readonly name: string;
  /** The data nodes, in start order: the first was started as the master, the others as its replicas. */
  readonly nodes: RedisServer[];
  /** The `redis-server --sentinel` processes. */
  readonly sentinels: RedisServer[];
  /** node-redis `createSentinel({ sentinelRootNodes })` input. */
  readonly sentinelRootNodes: Array<{ host: string; port: number }>;
  /** The data node every running Sentinel names as master right now (throws if they disagree or none answers). */
  master(): Promise<RedisServer>;
  /**
   * Waits until every running Sentinel names a master other than `previous`, and that node says
   * `role:master`: the failover is over. Resolves with the new master. Bounded.
   */
  waitForNewMaster(previous: RedisServer, options?: { timeoutMs?: number }): Promise<RedisServer>;
  /** `SENTINEL FAILOVER <name>` on one Sentinel (no agreement needed), then {@link waitForNewMaster}. */
  failover(): Promise<RedisServer>;
  /** Stops every process (by pid) and removes their directories. */
  stop(): Promise<void>;
}

export interface StartSentinelSetupOptions {
  /** Default `'org-cache'`. */
  name?: string;
  /** Replicas of the master. Default 1. */
  replicas?: number;
  /** Sentinel processes. Default 3. */
  sentinels?: number;
  /** Sentinels that must agree the master is down. Default: a majority. */
  quorum?: number;
  /** How long a master may stay silent before a Sentinel thinks it down. Default 1500 ms. */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (also the delay before a failed failover is retried). Default 10 s. */
  failoverTimeoutMs?: number;
}

/**
 * Starts a master, its replicas and Sentinels watching it, all `redis-server` processes owned by
 * the caller on free ports (each Sentinel with a generated config file in its own directory), and
 * waits until every replica is in sync and every Sentinel knows every replica and every other
 * Sentinel (so a killed master is failed over, not just noticed). Bounded; stops what it started
 * on failure.
 */
export async function startSentinelSetup(options: StartSentinelSetupOptions = {}): Promise<SentinelSetup> {
  const {
    name = 'org-cache',
    replicas = 1,
    sentinels: sentinelCount = 3,
    downAfterMs = 1_500,
    failoverTimeoutMs = 10_000,
  } = options;
  const quorum = options.quorum ?? Math.floor(sentinelCount / 2) + 1;
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new Error(`sentinel master name must be a plain word, got ${name}`);
  if (quorum < 1 || quorum > sentinelCount)
    throw new Error(`quorum ${quorum} with ${sentinelCount} sentinels`);
  const started: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
  try {
    const master = await startRedisServer();
    started.push(master);
    const replicaNodes = await Promise.all(
      Array.from({ length: replicas }, async () => {
        const replica = await startRedisServer({ args: ['--replicaof', HOST, String(master.port)] });
        started.push(replica);
        return replica;
      }),
    );
    const nodes = [master, ...replicaNodes];
    await Promise.all(replicaNodes.map((replica) => waitForReplicaLink(replica)));
    const config = [
      `sentinel monitor ${name} ${HOST} ${master.port} ${quorum}`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n');
    const sentinels = await Promise.all(
      Array.from({ length: sentinelCount }, async () => {
        const sentinel = await startRedisServer({ configFile: config, args: ['--sentinel'] });
        started.push(sentinel);
        return sentinel;
      }),
    );
    await waitForDiscovery(name, sentinels, replicas);
    const setup: SentinelSetup = {
      name,
      nodes,
      sentinels,
      sentinelRootNodes: sentinels.map((sentinel) => ({ host: HOST, port: sentinel.port })),
      master: async () => nodeAt(nodes, await agreedMasterPort(name, sentinels)),
      async waitForNewMaster(previous, { timeoutMs = STATE_TIMEOUT_MS } = {}) {
        let last = '';
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          try {
            const port = await agreedMasterPort(name, sentinels);
            if (port !== previous.port) {
              const role = String(await redisCommand(port, ['ROLE'], { timeoutMs: 500 }).then(first));
              if (role === 'master') return nodeAt(nodes, port);
              last = `sentinels name ${port}, which says role ${role}`;
            } else {
              last = `sentinels still name ${port}`;
            }
          } catch (error) {
            last = (error as Error).message;
          }
          await sleep(50);
        }
        throw new Error(`no new master for ${name} after ${timeoutMs} ms: ${last}`);
      },
      async failover() {
        const previous = await setup.master();
        // The first Sentinel that takes the order (one the test stopped does not answer).
        const errors: unknown[] = [];
        for (const sentinel of sentinels) {
          const ordered = await redisCommand(sentinel.port, ['SENTINEL', 'FAILOVER', name], {
            timeoutMs: 2_000,
          }).then(
            () => true,
            (error: unknown) => errors.push(error) < 0,
          );
          if (ordered) return setup.waitForNewMaster(previous);
        }
        throw new AggregateError(errors, `no Sentinel of ${name} took SENTINEL FAILOVER`);
      },
      stop,
    };
    return setup;
  } catch (error) {
    await stop();
    throw error;
  }
}

function first(reply: RespReply): RespReply {
  return Array.isArray(reply) ? (reply[0] ?? null) : reply;
}

function nodeAt(nodes: RedisServer[], port: number): RedisServer {
  const node = nodes.find((candidate) => candidate.port === port);
  if (node === undefined)
    throw new Error(`sentinels name ${HOST}:${port}, which is not a node of this setup`);
  return node;
}

/**
 * Reads the master's replication offset now and resolves once every replica has received at least
 * that much: what `WAIT` would have waited for. A test that fails a master over after this knows
 * every write acknowledged before the call survives the failover. Bounded.
 */
export async function replicasCaughtUp(master: RedisServer, replicas: RedisServer[]): Promise<void> {
  const offsetOf = async (node: RedisServer, field: string) =>
    Number(
      new RegExp(`^${field}:(\\d+)`, 'm').exec(
        String(await redisCommand(node.port, ['INFO', 'replication'])),
      )?.[1],
    );
  const offset = await offsetOf(master, 'master_repl_offset');
  await waitFor('replicas caught up with the master', async () => {
    const offsets = await Promise.all(replicas.map((replica) => offsetOf(replica, 'slave_repl_offset')));
    return offsets.every((replicaOffset) => replicaOffset >= offset);
  });
}

async function waitForReplicaLink(replica: RedisServer): Promise<void> {
  const deadline = Date.now() + STATE_TIMEOUT_MS;
  let info = '';
  while (Date.now() < deadline) {
    info = String(
      await redisCommand(replica.port, ['INFO', 'replication'], { timeoutMs: 500 }).catch(String),
    );
    if (/^master_link_status:up\s*$/m.test(info)) return;
    await sleep(50);
  }
  throw new Error(`replica ${replica.url} not in sync after ${STATE_TIMEOUT_MS} ms:\n${info}`);
}

/** The master port every Sentinel that answers names; throws if they disagree or none answers. */
async function agreedMasterPort(name: string, sentinels: RedisServer[]): Promise<number> {
  const answers = await Promise.all(
    sentinels.map((sentinel) =>
      redisCommand(sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name], { timeoutMs: 500 }).then(
        (reply) => (Array.isArray(reply) ? Number(reply[1]) : undefined),
        () => undefined, // a Sentinel the test stopped or killed
      ),
    ),
  );
  const ports = new Set(answers.filter((port): port is number => port !== undefined));
  if (ports.size !== 1) throw new Error(`sentinels disagree on the master of ${name}: ${answers.join(', ')}`);
  return [...ports][0] as number;
}

/** Every Sentinel knows `replicas` replicas and every other Sentinel. */
async function waitForDiscovery(name: string, sentinels: RedisServer[], replicas: number): Promise<void> {
  const deadline = Date.now() + STATE_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const counts = await Promise.all(
      sentinels.map(async (sentinel) => {
        const [knownReplicas, knownSentinels] = await Promise.all(
          ['REPLICAS', 'SENTINELS'].map((what) =>
            redisCommand(sentinel.port, ['SENTINEL', what, name], { timeoutMs: 500 }).then(
              (reply) => (Array.isArray(reply) ? reply.length : -1),
              () => -1,
            ),
          ),
        );
        return { knownReplicas, knownSentinels };
      }),
    );
    if (
      counts.every(
        (count) => count.knownReplicas === replicas && count.knownSentinels === sentinels.length - 1,
      )
    )
      return;
    last = counts
      .map((count) => `${count.knownReplicas} replicas/${count.knownSentinels} sentinels`)
      .join(', ');
    await sleep(100);
  }
  throw new Error(`sentinels did not discover the setup of ${name} in ${STATE_TIMEOUT_MS} ms: ${last}`);
}
