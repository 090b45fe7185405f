import { CacheError, StoreTimeoutError, toStoreError } from '../errors.js';
import { isStoreTraced, traceStore } from '../observe/events.js';
import { withDeadline } from '../support/deadline.js';
import { type BreakerOptions, CircuitBreaker } from './breaker.js';
import { DeadlineWatch } from './deadline-watch.js';

/** A batch operation gets one `operationTimeout` for each this many entries. */
const ENTRIES_PER_DEADLINE = 100;

import type { DriverEntry, StoreDriver } from './driver.js';
import type { IfAbsentEntry, StoreLeases } from './store.js';

export interface GuardOptions {
  /** Deadline for each store operation, in ms. */
  operationTimeoutMs: number;
  breaker: BreakerOptions;
  /** The owning cache's name, for the `store` tracing channel. */
  cacheName: string;
}

/**
 * Every store operation goes through here: a deadline so a slow or half-open store never hangs a
 * caller, a breaker so a dead store is not hammered, and one error type. In-process stores cannot
 * hang, so they skip the deadline timer (it would cost more than the operation).
 */
export class GuardedStore {
  readonly breaker: CircuitBreaker;
  /** `undefined` for in-process stores. */
  private readonly deadlines: DeadlineWatch | undefined;
  /** Operations started and not settled yet: close() waits for them before the store goes. */
  #pending = 0;
  #closedBy: Error | undefined;
  #drained: (() => void) | undefined;
  private readonly cacheName: string;

  constructor(
    readonly driver: StoreDriver,
    options: GuardOptions,
  ) {
    this.breaker = new CircuitBreaker(options.breaker);
    this.cacheName = options.cacheName;
    this.deadlines = driver.inProcess
      ? undefined
      : new DeadlineWatch(options.operationTimeoutMs, driver.name);
    this.leases = this.guardLeases();
    const setIfAbsent = driver.setIfAbsent;
    this.setIfAbsent =
      setIfAbsent === undefined
        ? undefined
        : (entries) => this.run('setIfAbsent', () => setIfAbsent(entries));
  }

  /** The store's create-if-absent under the same deadline and breaker; `undefined` when it has none. */
  readonly setIfAbsent: ((entries: IfAbsentEntry[]) => Promise<string[]>) | undefined;

  get name(): string {
    return this.driver.name;
  }

  get(key: string): Promise<unknown> {
    return this.run('get', () => this.driver.get(key), key);
  }

  getMany(keys: string[]): Promise<unknown[]> {
    return this.run('getMany', () => this.driver.getMany(keys), undefined, keys.length);
  }

  set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    return this.run('set', () => this.driver.set(key, value, ttlMs), key);
  }

  setMany(entries: DriverEntry[]): Promise<void> {
    return this.run('setMany', () => this.driver.setMany(entries), undefined, entries.length);
  }

  delete(key: string): Promise<boolean> {
    return this.run('delete', () => this.driver.delete(key), key);
  }

  deleteMany(keys: string[]): Promise<void> {
    return keys.length === 0
      ? Promise.resolve()
      : this.run('deleteMany', () => this.driver.deleteMany(keys), undefined, keys.length);
  }

  memoryUsage(keys: string[]): Promise<Array<number | undefined>> {
    return this.run('memoryUsage', () => this.driver.memoryUsage(keys));
  }

  /** Lease operations under the same deadline and breaker; `undefined` when the store has none. */
  readonly leases: StoreLeases | undefined;

  private guardLeases(): StoreLeases | undefined {
    const leases = this.driver.leases;
    if (leases === undefined) return undefined;
    return {
      acquire: (key, token, ttlMs) => this.run('lease', () => leases.acquire(key, token, ttlMs), key),
      commit: (key, token, value, ttlMs) =>
        this.run('commit', () => leases.commit(key, token, value, ttlMs), key),
      release: (key, token) => this.run('release', () => leases.release(key, token), key),
      // Bounded by its own timeout, and it never rejects: no deadline or breaker needed.
      waitForRelease: (key, timeoutMs, signal) => leases.waitForRelease(key, timeoutMs, signal),
      revokeMatching: (pattern) => this.run('revokeLeases', () => leases.revokeMatching(pattern)),
    };
  }

  /**
   * Refuses every operation from now on with `error`, and resolves once the operations already
   * started have settled (each is bounded by its deadline).
   */
  close(error: Error): Promise<void> {
    this.#closedBy = error;
    if (this.#pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
  }

  /** Scans with the same deadline and breaker applied to every batch. */
  async *scan(pattern: string): AsyncIterable<string[]> {
    const iterator = this.driver.scan(pattern)[Symbol.asyncIterator]();
    try {
      while (true) {
        const step = await this.run('scan', () => iterator.next());
        if (step.done) return;
        yield step.value;
      }
    } finally {
      void iterator.return?.()?.catch(() => {});
    }
  }

  /**
   * Runs one operation under breaker and deadline; converts every failure to a CacheError. Not an
   * async function: every store operation passes here, and each async layer is a promise more.
   */
  /** `entries`: how many keys a batch operation carries (its deadline grows with it). */
  run<T>(operation: string, call: () => Promise<T>, key?: string, entries = 1): Promise<T> {
    if (this.#closedBy !== undefined) return Promise.reject(this.#closedBy);
    if (!isStoreTraced()) return this.guard(operation, call, key, entries);
    return traceStore({ cache: this.cacheName, store: this.name, operation }, () =>
      this.guard(operation, call, key, entries),
    );
  }

  private guard<T>(
    operation: string,
    call: () => Promise<T>,
    key: string | undefined,
    entries: number,
  ): Promise<T> {
    if (!this.breaker.allow()) {
      return Promise.reject(
        new CacheError(
          'E_STORE_UNAVAILABLE',
          `store ${this.name} is unavailable (circuit open after: ${describe(this.breaker.lastError)})`,
          { store: this.name, key, cause: this.breaker.lastError },
        ),
      );
    }
    let pending: Promise<T>;
    try {
      // A capability of a third-party store may answer synchronously: still a promise here.
      pending = Promise.resolve(call());
    } catch (raw) {
      pending = Promise.reject(raw);
    }
    this.#pending++;
    const deadlines = this.deadlines;
    if (deadlines !== undefined && entries <= ENTRIES_PER_DEADLINE) {
      return this.#settleWithin(deadlines, pending, operation, key);
    }
    if (deadlines !== undefined) pending = this.#batchDeadline(deadlines, pending, operation, entries);
    return pending.then(this.#succeeded as (value: T) => T, (raw: unknown) => {
      throw this.#failed(raw, operation, key);
    });
  }

  /**
   * The store's answer under the shared deadline, as the one promise the caller awaits: the
   * watch's timer and the store's answer race to settle it. A watch promise of its own, awaited
   * by a `then` here, cost two more promises and a microtask hop on every Redis operation (an
   * allocation saving: no change in time could be measured).
   */
  #settleWithin<T>(
    deadlines: DeadlineWatch,
    pending: Promise<T>,
    operation: string,
    key: string | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const watched = deadlines.start(operation, (timeout) => reject(this.#failed(timeout, operation, key)));
      pending.then(
        (value) => {
          if (!deadlines.finish(watched)) return;
          this.#succeeded(value);
          resolve(value);
        },
        (raw: unknown) => {
          if (deadlines.finish(watched)) reject(this.#failed(raw, operation, key));
        },
      );
    });
  }

  /**
   * One `operationTimeout` per ENTRIES_PER_DEADLINE entries of a batch: a deadline sized for one
   * key failed a 2,000-entry setMany on a busy machine while most of it was being written. Single
   * operations share the DeadlineWatch's one timer; batches are few enough for a timer each.
   */
  #batchDeadline<T>(
    deadlines: DeadlineWatch,
    pending: Promise<T>,
    operation: string,
    entries: number,
  ): Promise<T> {
    const ms = deadlines.timeoutMs * Math.ceil(entries / ENTRIES_PER_DEADLINE);
    return withDeadline(pending, ms, () => new StoreTimeoutError(operation, ms, { store: this.name }));
  }

  /** Books a failed operation (the breaker counts it) and returns the CacheError to reject with. */
  #failed(raw: unknown, operation: string, key: string | undefined): CacheError {
    this.#settled();
    const error = toStoreError(raw, operation, this.name, key);
    this.breaker.failed(error);
    return error;
  }

  readonly #succeeded = <T>(value: T): T => {
    this.#settled();
    this.breaker.succeeded();
    return value;
  };

  #settled(): void {
    if (--this.#pending === 0 && this.#drained !== undefined) this.#drained();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
