import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The parent side of cache-worker.mjs: starts caches in child processes, sends them requests over
 * IPC and collects replies. Every wait is bounded; `stopAll()` (in a finally/afterAll) kills what
 * is still running, by pid.
 */

const WORKER = fileURLToPath(new URL('./cache-worker.mjs', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 20_000;

export interface WorkerConfig {
  name: string;
  prefix: string;
  redis: { url: string } | { cluster: { rootNodes: Array<{ url: string }> } };
  lease?: false | { ttl?: string | number; wait?: string | number };
  skewMs?: number;
  grace?: string | number;
  operationTimeout?: string | number;
  strategy?: { ttl: string | number };
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

export interface WorkerEvent {
  type: 'event';
  event: 'fetch-start';
  key: string;
  name: string;
  at: number;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { name?: string; code?: string; message: string };
}

export class WorkerError extends Error {
  override readonly name = 'WorkerError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class CacheWorker {
  readonly events: WorkerEvent[] = [];
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly eventWaiters = new Set<() => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stderr = '';
  readonly exited: Promise<void>;

  private constructor(
    readonly config: WorkerConfig,
    readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4_000);
    });
    child.on('message', (message: unknown) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        const error = new WorkerError(
          `worker ${config.name} exited (${signal ?? `code ${code}`}): ${this.stderr}`,
        );
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks a worker and waits until its cache answers. */
  static async start(config: WorkerConfig): Promise<CacheWorker> {
    const child = fork(WORKER, [], {
      env: { ...process.env, CACHE_WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const worker = new CacheWorker(config, child);
    await bounded(
      new Promise<void>((resolve, reject) => {
        child.on('message', (message: { type?: string; error?: { message: string } }) => {
          if (message?.type === 'ready') resolve();
          if (message?.type === 'fatal')
            reject(new WorkerError(`worker ${config.name}: ${message.error?.message}`));
        });
        worker.exited.then(() =>
          reject(new WorkerError(`worker ${config.name} exited before ready: ${worker.stderr}`)),
        );
      }),
      READY_TIMEOUT_MS,
      `worker ${config.name} ready`,
    );
    return worker;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends one request; resolves with its result, rejects with the worker's error. Bounded. */
  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    if (!this.alive) return Promise.reject(new WorkerError(`worker ${this.config.name} is not running`));
    const id = ++this.nextId;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.child.send({ id, op, ...args });
    return bounded(reply, timeoutMs, `${this.config.name}.${op}`).finally(() =>
      this.pending.delete(id),
    ) as Promise<T>;
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

  async get(key: string): Promise<unknown> {
    return (await this.request<{ value: unknown }>('get', { key })).value;
  }

  /** Resolves with the first fetch-start event for `key` (past or future). Bounded. */
  waitForFetchStart(key: string, timeoutMs = 10_000): Promise<WorkerEvent> {
    const find = () => this.events.find((event) => event.key === key);
    return bounded(
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
      `${this.config.name} fetch-start for ${key}`,
    );
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await bounded(this.exited, 5_000, `${this.config.name} exit after SIGKILL`);
  }

  private onMessage(message: unknown): void {
    const candidate = message as Partial<Reply> & Partial<WorkerEvent> & { type?: string };
    if (candidate?.type === 'event') {
      this.events.push(candidate as WorkerEvent);
      for (const waiter of [...this.eventWaiters]) waiter();
      return;
    }
    if (typeof candidate?.id !== 'number') return;
    const pending = this.pending.get(candidate.id);
    if (pending === undefined) return;
    if (candidate.ok) pending.resolve(candidate.result);
    else
      pending.reject(
        new WorkerError(
          `${this.config.name}: ${candidate.error?.name ?? 'Error'} ${candidate.error?.code ?? ''} ${candidate.error?.message}`,
          candidate.error?.code,
        ),
      );
  }
}

const running = new Set<ChildProcess>();

/** Kills every worker still running (by pid) and waits for them to exit. */
export async function stopAllWorkers(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
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

/** Starts several workers in parallel; kills them all if one fails to start. */
export async function startWorkers(configs: WorkerConfig[]): Promise<CacheWorker[]> {
  const started = await Promise.allSettled(configs.map((config) => CacheWorker.start(config)));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await stopAllWorkers();
    throw failure.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<CacheWorker>).value);
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
