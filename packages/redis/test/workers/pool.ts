import { fileURLToPath } from 'node:url';
import { withDeadline } from '@org/cache-core/adapter';
import {
  ChildWorker,
  type ChildWorkerOptions,
  startChildWorkers,
  stopAllChildWorkers,
} from '@org/cache-testing/processes';

/**
 * The parent side of cache-worker.mjs: starts caches in child processes, sends them requests over
 * IPC and collects replies. Every wait is bounded; `stopAll()` (in a finally/afterAll) kills what
 * is still running, by pid.
 */

const WORKER = fileURLToPath(new URL('./cache-worker.mjs', import.meta.url));

export interface WorkerConfig {
  name: string;
  prefix: string;
  redis: { url: string } | { cluster: { rootNodes: Array<{ url: string }> } };
  lease?: false | { ttl?: string | number; wait?: string | number };
  skewMs?: number;
  grace?: string | number;
  operationTimeout?: string | number;
  strategy?: { ttl: string | number };
  /** redisStore({ trackTagTokens: true }). */
  trackTagTokens?: boolean;
}

export interface FetchSpec {
  delayMs: number;
  value: Record<string, unknown>;
  /** A Redis key INCRemented at the start of every fetch, in every process. */
  counterKey?: string;
}

export interface BurstResult {
  name: string;
  callers: number;
  values: Array<{ value: unknown; count: number }>;
  errors: Array<{ name?: string; code?: string; message: string }>;
  fetches: number;
  elapsedMs: number;
  startedAt: number;
  finishedAt: number;
}

export interface BatchResult {
  values: Array<{ key: string; fetchedBy: string } | undefined>;
  /** The keys each batch fetcher call was asked. */
  asked: string[][];
  elapsedMs: number;
  stats: { hits: number; misses: number; coalesced: number; fetches: number };
}

export interface WorkerEvent {
  type: 'event';
  event: 'fetch-start';
  key: string;
  name: string;
  at: number;
}

/** A cache in a child process (cache-worker.mjs) and the requests the tests send it. */
export class CacheWorker {
  readonly events: WorkerEvent[] = [];
  private readonly eventWaiters = new Set<() => void>();

  constructor(
    readonly config: WorkerConfig,
    private readonly process: ChildWorker,
  ) {
    process.onMessage((message) => {
      const event = message as Partial<WorkerEvent>;
      if (event?.type !== 'event') return;
      this.events.push(event as WorkerEvent);
      for (const waiter of [...this.eventWaiters]) waiter();
    });
  }

  /** Forks a worker and waits until its cache answers. */
  static async start(config: WorkerConfig): Promise<CacheWorker> {
    return new CacheWorker(config, await ChildWorker.start(childOptions(config)));
  }

  get pid(): number {
    return this.process.pid;
  }

  get alive(): boolean {
    return this.process.alive;
  }

  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    return this.process.request<T>(op, args, timeoutMs);
  }

  burst(
    key: string,
    callers: number,
    fetch: FetchSpec,
    options?: Record<string, unknown>,
    timeoutMs?: number,
  ) {
    return this.request<BurstResult>('burst', { key, callers, fetch, options }, timeoutMs);
  }

  /** One getManyOrSet in the worker (see cache-worker.mjs `batch`). */
  batch(keys: string[], fetch: Omit<FetchSpec, 'value'>, timeoutMs?: number) {
    return this.request<BatchResult>('batch', { keys, fetch }, timeoutMs);
  }

  async get(key: string): Promise<unknown> {
    return (await this.request<{ value: unknown }>('get', { key })).value;
  }

  /** Resolves with the first fetch-start event for `key` (past or future). Bounded. */
  waitForFetchStart(key: string, timeoutMs = 10_000): Promise<WorkerEvent> {
    const find = () => this.events.find((event) => event.key === key);
    return withDeadline(
      new Promise<WorkerEvent>((resolve) => {
        const check = () => {
          const found = find();
          if (found === undefined) return;
          this.eventWaiters.delete(check);
          resolve(found);
        };
        this.eventWaiters.add(check);
        check();
      }),
      timeoutMs,
      () =>
        new Error(`timed out after ${timeoutMs} ms waiting for ${this.config.name} fetch-start for ${key}`),
    );
  }

  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void> {
    return this.process.kill('SIGKILL');
  }
}

function childOptions(config: WorkerConfig): ChildWorkerOptions {
  return {
    script: WORKER,
    name: `worker ${config.name}`,
    env: { CACHE_WORKER_CONFIG: JSON.stringify(config) },
  };
}

/** Kills every worker still running (by pid) and waits for them to exit. */
export const stopAllWorkers = stopAllChildWorkers;

/** Starts several workers in parallel; kills them all if one fails to start. */
export async function startWorkers(configs: WorkerConfig[]): Promise<CacheWorker[]> {
  const processes = await startChildWorkers(configs.map(childOptions));
  return processes.map((process, index) => new CacheWorker(configs[index] as WorkerConfig, process));
}

export { sleep } from '@org/cache-test-support';

/** Sum of callers per distinct value across burst results. */
export function tally(results: BurstResult[]): {
  values: Map<string, number>;
  errors: number;
  fetches: number;
} {
  const values = new Map<string, number>();
  let errors = 0;
  let fetches = 0;
  for (const result of results) {
    for (const { value, count } of result.values) {
      const text = JSON.stringify(value);
      values.set(text, (values.get(text) ?? 0) + count);
    }
    errors += result.errors.length;
    fetches += result.fetches;
  }
  return { values, errors, fetches };
}
