import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RespReply, redisCommand } from '../../../redis/test/support/resp.js';

/**
 * The parent side of workers/tiered-worker.mjs: service instances in child processes, each with its
 * own L1 and bus subscription on one Redis. Every wait is bounded; `stopAllInstances()` (afterEach /
 * finally) kills by pid whatever is still running.
 */

const WORKER = fileURLToPath(new URL('../workers/tiered-worker.mjs', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 20_000;

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
}

export interface InstanceStats {
  l1Hits: number;
  l2Reads: number;
  l1Resets: number;
  connected: boolean;
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

const running = new Set<ChildProcess>();

export class Instance {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  private stderr = '';
  private exitInfo: string | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly config: InstanceConfig,
    readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4_000);
    });
    child.on('message', (message) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ?? `code ${code}`;
        const error = new Error(`instance ${config.name} exited (${this.exitInfo}): ${this.stderr}`);
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks an instance and waits until its bus subscription is live. */
  static async start(config: InstanceConfig): Promise<Instance> {
    const child = fork(WORKER, [], {
      env: { ...process.env, TIERED_WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const instance = new Instance(config, child);
    await bounded(
      new Promise<void>((resolve, reject) => {
        child.on('message', (message: { type?: string; error?: { message: string } }) => {
          if (message?.type === 'ready') resolve();
          if (message?.type === 'fatal')
            reject(new Error(`instance ${config.name}: ${message.error?.message}`));
        });
        instance.exited.then(() =>
          reject(new Error(`instance ${config.name} exited before ready: ${instance.stderr}`)),
        );
      }),
      READY_TIMEOUT_MS,
      `instance ${config.name} ready`,
    );
    return instance;
  }

  get name(): string {
    return this.config.name;
  }

  /** Sends one request; resolves with its result, rejects with the instance's error. Bounded. */
  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    if (this.exitInfo !== undefined) return Promise.reject(new Error(`instance ${this.name} is not running`));
    const id = ++this.nextId;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.child.send({ id, op, ...args });
    return bounded(reply, timeoutMs, `${this.name}.${op}`).finally(() =>
      this.pending.delete(id),
    ) as Promise<T>;
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
    options: { readers?: number; intervalMs?: number } = {},
  ): Promise<{ started: number }> {
    return this.request('watch', { keys, ...options });
  }

  async unwatch(): Promise<ReadRecord[]> {
    return (await this.request<{ records: ReadRecord[] }>('unwatch')).records;
  }

  async close(): Promise<void> {
    await this.request('close');
    this.child.disconnect();
    await bounded(this.exited, 5_000, `${this.name} exit after close`);
  }

  private onMessage(message: unknown): void {
    const reply = message as {
      id?: number;
      ok?: boolean;
      result?: unknown;
      error?: { code?: string; message: string };
    };
    if (typeof reply?.id !== 'number') return;
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    if (reply.ok) pending.resolve(reply.result);
    else
      pending.reject(
        Object.assign(new Error(`${this.name}: ${reply.error?.message}`), { code: reply.error?.code }),
      );
  }
}

/** Starts several instances in parallel; kills them all if one fails to start. */
export async function startInstances(configs: InstanceConfig[]): Promise<Instance[]> {
  const started = await Promise.allSettled(configs.map((config) => Instance.start(config)));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await stopAllInstances();
    throw failure.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<Instance>).value);
}

/** SIGKILLs every instance still running (by pid) and waits for the exits (bounded). */
export async function stopAllInstances(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(resolve, 3_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGKILL');
        }),
    ),
  );
}

export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  console.log(`[tiered] ${label}: ${value}`);
}
