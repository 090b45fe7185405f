import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Timing helpers for the failure tests: how long each caller waited, how long the cache took to
 * come back, and what escaped as an unhandled rejection. Figures are recorded with `report()`
 * (measurements.ts), away from the test output.
 */

/** The worst (and a few other) latencies of a set of calls. */
export class Latencies {
  private readonly samples: number[] = [];

  record(ms: number): void {
    this.samples.push(ms);
  }

  get count(): number {
    return this.samples.length;
  }

  get worst(): number {
    let worst = 0;
    for (const sample of this.samples) if (sample > worst) worst = sample;
    return worst;
  }

  percentile(p: number): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
  }

  /** Runs `call`, records how long it took to settle (resolved or rejected), and passes its outcome on. */
  async time<T>(call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      this.record(performance.now() - started);
    }
  }
}

export type Settled<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

/** Runs `call` and resolves with its outcome and duration; never rejects. */
export async function settle<T>(call: () => Promise<T>): Promise<Settled<T>> {
  const started = performance.now();
  try {
    const value = await call();
    return { ok: true, value, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started };
  }
}

/**
 * Retries `attempt` until it returns true; resolves with the ms it took. Bounded: rejects after
 * `timeoutMs` with `what` in the message (the last attempt's error, if any, as the cause).
 */
export async function waitFor(
  what: string,
  attempt: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<number> {
  const started = performance.now();
  let lastError: unknown;
  while (performance.now() - started < timeoutMs) {
    try {
      if (await attempt()) return performance.now() - started;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`, lastError === undefined ? {} : { cause: lastError });
}

/** Collects unhandled rejections and uncaught exceptions while installed (vitest would also fail the run). */
export function trapUnhandled(): { readonly errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (error: unknown) => {
    errors.push(error);
  };
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    stop() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}

/**
 * Counts the commands the adapter hands to its Redis connection (every store, lease and script
 * call goes through `connection.command`), so a test can compare them with the calls it made.
 * Returns the live counter and a restore function.
 */
export function countCommands(store: {
  connection: { command<T>(args: string[], key?: string, readonly?: boolean): Promise<T> };
}): { readonly count: number; readonly names: Map<string, number>; restore(): void } {
  const connection = store.connection;
  const original = connection.command;
  const names = new Map<string, number>();
  let count = 0;
  connection.command = function <T>(this: unknown, args: string[], key?: string, readonly?: boolean) {
    count++;
    const name = String(args[0]).toUpperCase();
    names.set(name, (names.get(name) ?? 0) + 1);
    return original.call(connection, args, key, readonly) as Promise<T>;
  };
  return {
    get count() {
      return count;
    },
    names,
    restore() {
      connection.command = original;
    },
  };
}

export interface LoadResult {
  readonly latencies: Latencies;
  /** Calls that rejected, with the operation that made them. */
  readonly failures: Array<{ operation: string; error: unknown }>;
  readonly calls: number;
}

/**
 * Runs `workers` concurrent loops for `durationMs`; each iteration runs `step(worker, iteration)`,
 * which names the operation it ran and resolves when it is done. Every iteration's latency is
 * recorded; a rejection is recorded as a failure (the loop goes on).
 */
export async function runLoad(options: {
  workers: number;
  durationMs: number;
  step: (worker: number, iteration: number) => { operation: string; done: Promise<unknown> };
}): Promise<LoadResult> {
  const latencies = new Latencies();
  const failures: Array<{ operation: string; error: unknown }> = [];
  let calls = 0;
  const until = performance.now() + options.durationMs;
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      for (let iteration = 0; performance.now() < until; iteration++) {
        const started = performance.now();
        const { operation, done } = options.step(worker, iteration);
        calls++;
        try {
          await done;
        } catch (error) {
          failures.push({ operation, error });
        }
        latencies.record(performance.now() - started);
        // Yield to timers between iterations, as a server handling requests would.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  return { latencies, failures, calls };
}
