import type { CacheStore } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { sleep } from '@org/cache-test-support';
import { type MemoryBusEndpoint, type MemoryBusHub, memoryBusHub } from '@org/cache-testing';
import { type TieredStore, type TieredStoreOptions, tieredStore } from '@org/cache-tiered';

/**
 * Unit-level helpers: instances of a service in one process (each its own L1 and bus endpoint on
 * one in-process hub), sharing one L2, with the faults the tests need: a bus whose publishes fail
 * on demand, an L2 that counts its reads or holds one back.
 */

export interface FlakyPublish {
  /** Publishes that reject (immediately) from now on, one per call. */
  failNext(count: number): void;
  /** While true, every publish rejects. */
  failing: boolean;
  /** The next publish rejects only after `ms` (a timeout, a dropped connection with the command in flight). */
  failNextAfter(ms: number): void;
  /** Publish calls that rejected. */
  readonly rejected: number;
}

/** Makes an endpoint's publish fail on demand (messages that fail are not delivered). */
export function flakyPublish(endpoint: MemoryBusEndpoint): FlakyPublish {
  const publish = endpoint.publish.bind(endpoint);
  let immediate = 0;
  const delayed: number[] = [];
  const control = {
    failing: false,
    rejected: 0,
    failNext(count: number) {
      immediate += count;
    },
    failNextAfter(ms: number) {
      delayed.push(ms);
    },
  };
  endpoint.publish = async (message: string) => {
    if (control.failing || immediate > 0) {
      if (immediate > 0) immediate--;
      control.rejected++;
      throw new Error('bus publish failed');
    }
    const delay = delayed.shift();
    if (delay !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      control.rejected++;
      throw new Error('bus publish timed out');
    }
    return publish(message);
  };
  return control;
}

/** The wire messages an endpoint receives from others, decoded (unreadable ones as `undefined`). */
export function received(
  endpoint: MemoryBusEndpoint,
): Array<{ i: string; s: number; k?: string[] } | undefined> {
  const messages: Array<{ i: string; s: number; k?: string[] } | undefined> = [];
  endpoint.subscribe((message) => {
    try {
      messages.push(JSON.parse(message));
    } catch {
      messages.push(undefined);
    }
  });
  return messages;
}

export interface CountingStore {
  store: CacheStore;
  /** get / getMany / has calls that reached this L2 (from this instance). */
  readonly reads: number;
  /** While set, every get resolves only after this promise (with the value read before it). */
  holdReads: Promise<void> | undefined;
}

/** One instance's view of a shared L2: delegates everything, counts reads, can hold them back. */
export function l2View(shared: CacheStore): CountingStore {
  const view: CountingStore = {
    reads: 0,
    holdReads: undefined,
    store: undefined as unknown as CacheStore,
  };
  const counted = view as { reads: number };
  view.store = {
    async get(key: string) {
      counted.reads++;
      const value = await shared.get(key);
      if (view.holdReads !== undefined) await view.holdReads;
      return value;
    },
    async getMany(keys: string[]) {
      counted.reads++;
      return (await shared.getMany?.(keys)) ?? Promise.all(keys.map((key) => shared.get(key)));
    },
    async has(key: string) {
      counted.reads++;
      return shared.has?.(key) ?? (await shared.get(key)) !== undefined;
    },
    set: (key: string, value: unknown, ttl?: number) => shared.set(key, value, ttl),
    setMany: (entries: Array<{ key: string; value: unknown; ttl?: number }>) =>
      shared.setMany?.(entries) ??
      Promise.all(entries.map((entry) => shared.set(entry.key, entry.value, entry.ttl))),
    delete: (key: string) => shared.delete(key),
    deleteMany: (keys: string[]) =>
      shared.deleteMany?.(keys) ?? Promise.all(keys.map((key) => shared.delete(key))),
    clear: () => shared.clear(),
    on: () => view.store,
  } as unknown as CacheStore;
  return view;
}

export interface UnitInstance {
  store: TieredStore;
  bus: MemoryBusEndpoint;
  l1: ReturnType<typeof memoryStore>;
  l2: CountingStore;
}

/** `count` instances on one hub and one shared memory L2. */
export function instances(
  count: number,
  options: Omit<TieredStoreOptions, 'l1' | 'l2' | 'bus'> = {},
): { hub: MemoryBusHub; l2: ReturnType<typeof memoryStore>; instances: UnitInstance[] } {
  const hub = memoryBusHub();
  const l2 = memoryStore();
  return {
    hub,
    l2,
    instances: Array.from({ length: count }, () => {
      const bus = hub.connect();
      const l1 = memoryStore();
      const view = l2View(l2);
      return { store: tieredStore({ ...options, l1, l2: view.store, bus }), bus, l1, l2: view };
    }),
  };
}

/** Lets queued microtasks and immediates run (the in-process bus delivers a microtask later). */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

export { sleep };

/** Retries `check` until true; bounded. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** A promise and the function that resolves it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
