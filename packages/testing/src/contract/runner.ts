import { randomUUID } from 'node:crypto';
import type { CacheOptions, CacheStore, StoreInput } from '@org/cache-core';

/**
 * The test functions of whatever runner the caller uses: vitest's or `node:test`'s `describe`
 * and `it` work as they are. With `afterEach`, cleanup also runs when the runner times a test
 * out; without it, cleanup runs in a `finally`. `beforeEach` is accepted so the runner's whole
 * set can be passed, but the suite needs no setup hook: each test creates its own store.
 */
export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  beforeEach?(hook: () => unknown): unknown;
  afterEach?(hook: () => unknown): unknown;
}

/**
 * What the store under test can do. Each flag that is true registers the tests for it, and those
 * tests fail when the store does not have the method; a false flag leaves them out.
 */
export interface StoreContractCapabilities {
  /** The store expires entries physically, by the ttl given to `set`. */
  ttl?: boolean;
  /** `[storeCapabilities].scan`: native glob scan. */
  scan?: boolean;
  /** `[storeCapabilities].memoryUsage`. */
  memoryUsage?: boolean;
  /** `[storeCapabilities].getSync`. */
  syncRead?: boolean;
  /** `[storeCapabilities].structuredValues`: values are kept by reference, not serialized. */
  structuredValues?: boolean;
  /**
   * Text shaped like core's envelope JSON (`{"v":...`) may come back as the parsed envelope: a
   * structured store whose slow tier keeps JSON cannot tell it from an envelope it serialized
   * (tiered, when a read comes from L2: always with coherence 'tracking', whose writes do not fill L1).
   */
  envelopeTextParsed?: boolean;
}

export interface StoreSubject<Store = CacheStore> {
  /** Shown in test names. */
  name: string;
  /**
   * A store for one test. It may share a backend with other tests (one Redis): the suite uses
   * keys and prefixes unique to each test, never `clear()`.
   */
  createStore: () => Store | Promise<Store>;
  capabilities?: StoreContractCapabilities;
  /** Called after each test with each store it created (after the caches on it are closed). */
  cleanup?: (store: Store) => void | Promise<void>;
}

/** Subject for the through-the-cache level, which also takes a Keyv instance or a plain Map. */
export type CacheSubject = StoreSubject<StoreInput> & {
  /**
   * Cache options every test's cache starts from (a test's own options win). A store on a real
   * server under load may want a longer `operationTimeout` than the 250 ms default: the suite
   * checks what a cache returns, not how fast.
   */
  cacheOptions?: Partial<CacheOptions>;
};

export interface TestScope<Store> {
  /** Unique per test, letters and digits only: safe inside keys, prefixes and patterns. */
  readonly id: string;
  /** A new store from the subject, cleaned up after the test. */
  store(): Promise<Store>;
  /** Runs after the test, in reverse order of registration, before the stores' cleanup. */
  defer(task: () => unknown): void;
}

export type DefineTest<Store> = (name: string, body: (scope: TestScope<Store>) => Promise<void>) => void;

/** Must be called inside a `describe` body, so `afterEach` is scoped to it. */
export function defineTest<Store>(runner: TestRunner, subject: StoreSubject<Store>): DefineTest<Store> {
  let tasks: Array<() => unknown> = [];
  const cleanUp = async () => {
    const pending = tasks.reverse();
    tasks = [];
    const errors: unknown[] = [];
    for (const task of pending) {
      try {
        await task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'contract suite cleanup failed');
  };
  const cleanUpInHook = typeof runner.afterEach === 'function';
  if (cleanUpInHook) runner.afterEach?.(cleanUp);

  return (name, body) => {
    runner.it(name, async () => {
      const scope: TestScope<Store> = {
        id: `t${randomUUID().replaceAll('-', '').slice(0, 12)}`,
        async store() {
          const store = await subject.createStore();
          // Registered first, so it runs after whatever the test defers on this store.
          tasks.unshift(() => subject.cleanup?.(store));
          return store;
        },
        defer(task) {
          tasks.push(task);
        },
      };
      if (cleanUpInHook) return body(scope);
      try {
        await body(scope);
      } finally {
        await cleanUp();
      }
    });
  };
}
