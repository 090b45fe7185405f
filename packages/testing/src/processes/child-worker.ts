import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { settleWithin, withDeadline } from '@org/cache-core/adapter';

/**
 * A Node child process driven over IPC, for multi-process tests (several caches, one store).
 * The protocol: the child sends `{ type: 'ready' }` once it can serve (or `{ type: 'fatal',
 * error }`), answers each `{ id, op, ...args }` with `{ id, ok, result }` or `{ id, ok: false,
 * error: { name?, code?, message } }`, and may send any other message (events) at any time.
 * Every wait is bounded; `stopAllChildWorkers()` SIGKILLs whatever a test left running.
 */
export interface ChildWorkerOptions {
  /** The script to fork (plain ESM: it imports the built packages). */
  script: string;
  /** A label for messages and errors. */
  name: string;
  /** Extra environment (the child also gets this process's). */
  env?: Record<string, string>;
  /** 'advanced' lets replies carry Maps, Dates, BigInts. Default 'json'. */
  serialization?: 'json' | 'advanced';
  /** How long to wait for `ready`. Default 60 s. */
  readyTimeoutMs?: number;
}

export class ChildWorkerError extends Error {
  override readonly name = 'ChildWorkerError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { name?: string; code?: string; message?: string };
}

// Hang guards, not performance claims: a child that dies says so at once ('exited before ready').
// Starting Node, loading the packages and connecting took over 15 s with 4 children starting at
// once on a loaded 2-core machine (about 1.5 s alone).
const DEFAULT_READY_MS = 60_000;
const DEFAULT_REQUEST_MS = 20_000;
const running = new Set<ChildProcess>();

export class ChildWorker {
  readonly exited: Promise<void>;
  /** The last 4 KB the child wrote to stderr (for error messages). */
  stderr = '';
  private exitInfo: string | undefined;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Set<(message: unknown) => void>();

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4_000);
    });
    child.on('message', (message) => this.receive(message));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ?? `code ${code}`;
        const error = new ChildWorkerError(`${name} exited (${this.exitInfo}): ${this.stderr}`);
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks the script and waits (bounded) until it says it is ready. */
  static async start(options: ChildWorkerOptions): Promise<ChildWorker> {
    const child = fork(options.script, [], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: options.serialization ?? 'json',
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const worker = new ChildWorker(options.name, child);
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        worker.onMessage((message) => {
          const signal = message as { type?: string; error?: { message?: string } };
          if (signal?.type === 'ready') resolve();
          if (signal?.type === 'fatal')
            reject(new ChildWorkerError(`${options.name}: ${signal.error?.message}`));
        });
        worker.exited.then(() =>
          reject(new ChildWorkerError(`${options.name} exited before ready: ${worker.stderr}`)),
        );
      }),
      options.readyTimeoutMs ?? DEFAULT_READY_MS,
      timedOut(options.readyTimeoutMs ?? DEFAULT_READY_MS, `${options.name} ready`),
    );
    return worker;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends one request; resolves with its result, rejects with the child's error. Bounded. */
  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = DEFAULT_REQUEST_MS): Promise<T> {
    if (!this.alive) return Promise.reject(new ChildWorkerError(`${this.name} is not running`));
    const id = ++this.nextId;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.child.send({ id, op, ...args });
    return withDeadline(reply, timeoutMs, timedOut(timeoutMs, `${this.name}.${op}`)).finally(() =>
      this.pending.delete(id),
    ) as Promise<T>;
  }

  /** Every message that is not a reply (events, ready, fatal). */
  onMessage(listener: (message: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends a signal (SIGKILL by default) and waits, bounded, for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await withDeadline(this.exited, 5_000, timedOut(5_000, `${this.name} exit after ${signal}`));
  }

  private receive(message: unknown): void {
    const reply = message as Partial<Reply>;
    if (typeof reply?.id !== 'number') {
      for (const listener of this.listeners) listener(message);
      return;
    }
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    if (reply.ok) {
      pending.resolve(reply.result);
      return;
    }
    const { name = 'Error', code, message: text } = reply.error ?? {};
    pending.reject(new ChildWorkerError(`${this.name}: ${name} ${code ?? ''} ${text}`, code));
  }
}

/** Starts several children in parallel; if one fails to start, kills them all and rethrows. */
export async function startChildWorkers(options: ChildWorkerOptions[]): Promise<ChildWorker[]> {
  const started = await Promise.allSettled(options.map((each) => ChildWorker.start(each)));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await stopAllChildWorkers();
    throw failure.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<ChildWorker>).value);
}

/** SIGKILLs every child still running and waits (bounded) for the exits. For afterEach/afterAll. */
export async function stopAllChildWorkers(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      return settleWithin(exited, 3_000);
    }),
  );
}

/** The rejection of a wait that ran out of time: says what was awaited, and for how long. */
function timedOut(ms: number, what: string): () => ChildWorkerError {
  return () => new ChildWorkerError(`timed out after ${ms} ms waiting for ${what}`, 'E_TIMEOUT');
}
