import { fileURLToPath } from 'node:url';
import { withDeadline } from '@org/cache-core/adapter';
import { measure, type RespReply, redisCommand, sleep } from '@org/cache-test-support';
import {
  ChildWorker,
  type ChildWorkerOptions,
  startChildWorkers,
  stopAllChildWorkers,
} from '@org/cache-testing/processes';

/**
 * The parent side of workers/tiered-worker.mjs: service instances in child processes, each with its
 * own L1 and bus subscription on one Redis. Every wait is bounded; `stopAllInstances()` (afterEach /
 * finally) kills by pid whatever is still running.
 */

const WORKER = fileURLToPath(new URL('../workers/tiered-worker.mjs', import.meta.url));

export interface InstanceConfig {
  name: string;
  url: string;
  channel: string;
  prefix: string;
  l1Ttl?: string | number;
  lease?: false | { ttl?: string | number; wait?: string | number };
  /** The bus connections retry at this fixed pace after a drop (default: the store's back-off). */
  busReconnectDelayMs?: number;
  /** An ACL user for the bus connections only (see `cutBusUser`). */
  busUser?: { username: string; password: string };
  /** The L2 on this Redis Cluster instead of `url` (tracking only: the bus needs `url`). */
  rootNodes?: Array<{ url: string }>;
  /** The L2 behind Redis Sentinel instead of `url` (tracking only: the bus needs `url`). */
  sentinel?: { name: string; sentinelRootNodes: Array<{ host: string; port: number }> };
  /** `'tracking'`: Redis client tracking instead of the bus (`channel` is then unused). */
  coherence?: 'tracking';
}

export interface InstanceStats {
  l1Hits: number;
  l2Reads: number;
  l1Resets: number;
  /** The bus is connected (bus) or tracking is on (tracking). */
  connected: boolean;
  l1InUse: boolean;
  tracking: {
    invalidations: number;
    flushes: number;
    losses: number;
    stalls: number;
    topologyChanges: number;
  };
  bus: {
    published: number;
    publishFailures: number;
    queued: number;
    dropped: number;
    received: number;
    gaps: number;
    disconnects: number;
    unreadable: number;
  };
}

export interface Probe {
  value: unknown;
  l1Hit: boolean;
  l2Read: boolean;
}

/** One read recorded by `watch`: epoch ms (sub-ms precision, comparable across processes). */
export interface ReadRecord {
  key: string;
  start: number;
  end: number;
  value?: unknown;
  error?: { name?: string; code?: string; message: string };
}

export interface Timed {
  start: number;
  end: number;
}

export interface BurstResult {
  name: string;
  fetches: number;
  errors: Array<{ name?: string; code?: string; message: string }>;
  values: Array<{ value: unknown; count: number }>;
  elapsedMs: number;
}

/** A service instance in a child process (workers/tiered-worker.mjs) and the requests tests send it. */
export class Instance {
  constructor(
    readonly config: InstanceConfig,
    private readonly process: ChildWorker,
  ) {}

  /** Forks an instance and waits until its bus subscription is live. */
  static async start(config: InstanceConfig): Promise<Instance> {
    return new Instance(config, await ChildWorker.start(childOptions(config)));
  }

  get name(): string {
    return this.config.name;
  }

  /** Sends one request; resolves with its result, rejects with the instance's error. Bounded. */
  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    return this.process.request<T>(op, args, timeoutMs);
  }

  probe(key: string): Promise<Probe> {
    return this.request('probe', { key });
  }

  async get(key: string): Promise<unknown> {
    return (await this.request<{ value: unknown }>('get', { key })).value;
  }

  set(key: string, value: unknown, options?: { ttl?: string | number; tags?: string[] }): Promise<Timed> {
    return this.request('set', { key, value, options });
  }

  delete(key: string): Promise<Timed> {
    return this.request('delete', { key });
  }

  invalidateTags(tags: string[]): Promise<Timed> {
    return this.request('invalidateTags', { tags });
  }

  deleteByPattern(pattern: string): Promise<Timed & { deleted: number }> {
    return this.request('deleteByPattern', { pattern });
  }

  stats(): Promise<InstanceStats> {
    return this.request('stats');
  }

  /** Polls `key` every `intervalMs` in the instance until it equals `expected`. */
  awaitValue(
    key: string,
    expected: unknown,
    options: { intervalMs?: number; timeoutMs?: number } = {},
  ): Promise<{ seenAt: number | undefined; polls: number; seen: unknown[] }> {
    return this.request('awaitValue', { key, expected, ...options }, (options.timeoutMs ?? 2_000) + 5_000);
  }

  /** Starts continuous readers of `keys` in the instance (every read is recorded). */
  watch(
    keys: string[],
    options: { readers?: number; intervalMs?: number; afterIo?: boolean } = {},
  ): Promise<{ started: number }> {
    return this.request('watch', { keys, ...options });
  }

  async unwatch(): Promise<ReadRecord[]> {
    return (await this.request<{ records: ReadRecord[] }>('unwatch')).records;
  }

  async close(): Promise<void> {
    await this.request('close');
    this.process.child.disconnect();
    await withDeadline(
      this.process.exited,
      5_000,
      () => new Error(`timed out after 5000 ms waiting for ${this.name} exit after close`),
    );
  }
}

function childOptions(config: InstanceConfig): ChildWorkerOptions {
  return {
    script: WORKER,
    name: `instance ${config.name}`,
    env: { TIERED_WORKER_CONFIG: JSON.stringify(config) },
    serialization: 'advanced',
  };
}

/** Starts several instances in parallel; kills them all if one fails to start. */
export async function startInstances(configs: InstanceConfig[]): Promise<Instance[]> {
  const processes = await startChildWorkers(configs.map(childOptions));
  return processes.map((process, index) => new Instance(configs[index] as InstanceConfig, process));
}

/** SIGKILLs every instance still running (by pid) and waits for the exits (bounded). */
export const stopAllInstances = stopAllChildWorkers;

export { sleep };

/** Epoch ms with sub-ms precision, comparable with the instances' timestamps. */
export const now = () => performance.timeOrigin + performance.now();

/** Retries `check` until it is true, bounded; resolves with the ms it took. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 10 } = {},
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/**
 * Kills the bus subscriber connection of one instance (found by its client name `bus-<name>` and
 * pub/sub flag in CLIENT LIST) on a server we started. Returns how many connections were killed.
 */
export async function killBusSubscriber(port: number, instanceName: string): Promise<number> {
  const list = String(await redisCommand(port, ['CLIENT', 'LIST']));
  const ids = list
    .split('\n')
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(' ')
          .map((field) => field.split('=') as [string, string]),
      ),
    )
    .filter((client) => client.name === `bus-${instanceName}` && Number(client.sub) > 0)
    .map((client) => client.id as string);
  let killed = 0;
  for (const id of ids)
    killed += Number((await redisCommand(port, ['CLIENT', 'KILL', 'ID', id])) as RespReply);
  return killed;
}

/**
 * Kills the tracked connection of one instance (client name `l2-<name>:tracking`) on a server we
 * started. Returns how many connections were killed.
 */
export async function killTrackingConnection(port: number, instanceName: string): Promise<number> {
  const list = String(await redisCommand(port, ['CLIENT', 'LIST']));
  const ids = list
    .split('\n')
    .map((line) => /\bid=(\d+)\b.*\bname=(\S*)/.exec(line))
    .filter((match) => match?.[2] === `l2-${instanceName}:tracking`)
    .map((match) => match?.[1] as string);
  let killed = 0;
  for (const id of ids)
    killed += Number((await redisCommand(port, ['CLIENT', 'KILL', 'ID', id])) as RespReply);
  return killed;
}

/** Creates an ACL user for one instance's bus (all keys, all channels, all commands). */
export async function createBusUser(port: number, username: string, password: string): Promise<void> {
  await redisCommand(port, ['ACL', 'SETUSER', username, 'on', `>${password}`, '~*', '&*', '+@all']);
}

/** Switches the bus user off and drops its connections: they cannot come back until `restoreBusUser`. */
export async function cutBusUser(port: number, username: string): Promise<number> {
  await redisCommand(port, ['ACL', 'SETUSER', username, 'off']);
  return Number(await redisCommand(port, ['CLIENT', 'KILL', 'USER', username]));
}

export async function restoreBusUser(port: number, username: string): Promise<void> {
  await redisCommand(port, ['ACL', 'SETUSER', username, 'on']);
}

/** p-th percentile (nearest rank) of a list of numbers. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Prints one measured figure so a run's log can be quoted. */
export function report(label: string, value: string): void {
  measure(`[tiered] ${label}: ${value}`);
}
