import { CacheError } from '@org/cache-core';

/** The store operations chaos can target. `scan` and `iterator` count one call per step. */
export type ChaosOperation =
  | 'get'
  | 'getMany'
  | 'set'
  | 'setMany'
  | 'delete'
  | 'deleteMany'
  | 'has'
  | 'hasMany'
  | 'clear'
  | 'iterator'
  | 'scan'
  | 'memoryUsage';

export interface ChaosSettings {
  /** Probability in [0, 1] that a call rejects with a ChaosError. */
  failureRate?: number;
  /** Delay before each call, in ms: fixed, or uniform in `[min, max]`. */
  latencyMs?: number | readonly [min: number, max: number];
  /** Calls never settle until released by `reset()`, `set({ hang: false })` or a disconnect. */
  hang?: boolean;
  /** Calls reject at once, as against a dropped connection. */
  disconnected?: boolean;
  /** Restricts chaos to these operations (e.g. only writes); the others pass through untouched. */
  operations?: readonly ChaosOperation[] | undefined;
}

type Settings = Required<Omit<ChaosSettings, 'operations'>> & Pick<ChaosSettings, 'operations'>;

const healthy: Settings = Object.freeze({ failureRate: 0, latencyMs: 0, hang: false, disconnected: false });

/** What a chaotic call rejects with. It is deliberately not a CacheError: core must wrap it. */
export class ChaosError extends Error {
  override readonly name = 'ChaosError';
  constructor(
    readonly operation: ChaosOperation,
    readonly reason: 'injected' | 'disconnected',
  ) {
    super(
      reason === 'injected'
        ? `chaos: ${operation} failed (injected failure)`
        : `chaos: ${operation} failed: disconnected`,
    );
  }
}

/**
 * The handle a test drives chaos with. Randomness: a call that chaos applies to draws one number
 * for the failure decision when `failureRate` is strictly between 0 and 1, then one for the delay
 * when `latencyMs` is a range; nothing else draws, so an injected `random` makes runs repeatable.
 */
export class ChaosController {
  private settings: Settings = healthy;
  private readonly parked = new Set<() => void>();
  private counts = { calls: 0, failures: 0, hangs: 0 };

  constructor(
    initial: ChaosSettings = {},
    private readonly random: () => number = Math.random,
  ) {
    this.set(initial);
  }

  /** Every call made through the wrapper, chaotic or not (a scan or iterator counts each step). */
  get calls(): number {
    return this.counts.calls;
  }

  /** Calls rejected by chaos (injected failures and disconnections). */
  get failures(): number {
    return this.counts.failures;
  }

  /** Calls that were parked by `hang` (each counted once). */
  get hangs(): number {
    return this.counts.hangs;
  }

  /** Calls parked right now. */
  get pending(): number {
    return this.parked.size;
  }

  /** The settings in force. */
  get current(): Readonly<ChaosSettings> {
    return this.settings;
  }

  /** Merges `settings` into the current ones; releases parked calls once `hang` is off or on disconnect. */
  set(settings: ChaosSettings): void {
    const next: Record<string, unknown> = { ...this.settings };
    for (const [name, value] of Object.entries(validate(settings))) {
      // `operations: undefined` means "all operations again"; any other undefined leaves a setting as is.
      if (value !== undefined || name === 'operations') next[name] = value;
    }
    this.settings = Object.freeze(next as Settings);
    if (!this.settings.hang || this.settings.disconnected) this.release();
  }

  /** Back to a healthy store, releasing parked calls. Counters keep counting: see `resetCounters()`. */
  reset(): void {
    this.set({ ...healthy, operations: undefined });
  }

  resetCounters(): void {
    this.counts = { calls: 0, failures: 0, hangs: 0 };
  }

  /** Resolves when the real operation may run; rejects with a ChaosError when chaos says so. */
  async enter(operation: ChaosOperation): Promise<void> {
    this.counts.calls++;
    let parked = false;
    while (true) {
      if (!this.appliesTo(operation)) return;
      if (this.settings.disconnected) throw this.fail(operation, 'disconnected');
      if (!this.settings.hang) break;
      if (!parked) this.counts.hangs++;
      parked = true;
      await new Promise<void>((resolve) => this.parked.add(resolve));
    }
    const fails = this.rollFailure();
    const delay = this.rollLatency();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (fails) throw this.fail(operation, 'injected');
  }

  /** An async iterable whose every step goes through chaos, for scans and iterators. */
  async *steps<T>(
    operation: ChaosOperation,
    open: () => AsyncIterable<T>,
  ): AsyncGenerator<T, void, undefined> {
    await this.enter(operation);
    const iterator = open()[Symbol.asyncIterator]();
    try {
      let step = await iterator.next();
      while (!step.done) {
        yield step.value;
        await this.enter(operation);
        step = await iterator.next();
      }
    } finally {
      await iterator.return?.();
    }
  }

  private appliesTo(operation: ChaosOperation): boolean {
    return this.settings.operations === undefined || this.settings.operations.includes(operation);
  }

  private rollFailure(): boolean {
    const rate = this.settings.failureRate;
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random() < rate;
  }

  private rollLatency(): number {
    const latency = this.settings.latencyMs;
    if (typeof latency === 'number') return latency;
    const [min, max] = latency;
    return Math.round(min + this.random() * (max - min));
  }

  private fail(operation: ChaosOperation, reason: ChaosError['reason']): ChaosError {
    this.counts.failures++;
    return new ChaosError(operation, reason);
  }

  private release(): void {
    const waiting = [...this.parked];
    this.parked.clear();
    for (const resume of waiting) resume();
  }
}

function validate(settings: ChaosSettings): ChaosSettings {
  const { failureRate, latencyMs } = settings;
  if (
    failureRate !== undefined &&
    !(typeof failureRate === 'number' && failureRate >= 0 && failureRate <= 1)
  ) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `chaos failureRate must be within [0, 1], got ${String(failureRate)}`,
    );
  }
  if (latencyMs !== undefined) {
    const [min, max] = typeof latencyMs === 'number' ? [latencyMs, latencyMs] : latencyMs;
    if (!(isDelay(min) && isDelay(max) && min <= max)) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `chaos latencyMs must be ms >= 0 or [min, max], got ${String(latencyMs)}`,
      );
    }
  }
  return settings;
}

function isDelay(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0;
}

/**
 * A small deterministic generator (mulberry32) for `chaosStore({ random })`.
 *
 * @example chaosStore(store, { failureRate: 0.2, random: seededRandom(42) })
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
