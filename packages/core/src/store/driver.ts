import { CacheError } from '../errors.js';
import { compileGlob } from '../keys/glob.js';
import { EventLoopTurns } from './event-loop-turns.js';
import {
  type CacheStore,
  capabilitiesOf,
  type IfAbsentEntry,
  type StoreCapabilities,
  type StoreInput,
  type StoreLeases,
} from './store.js';

export interface DriverEntry {
  key: string;
  value: unknown;
  ttlMs: number | undefined;
}

/** How pattern operations find keys on this store, best first. */
export type ScanMode = 'native' | 'iterator' | 'map' | 'none';

/**
 * One shape for every store core accepts (our adapters, any keyv adapter, a Keyv instance, a
 * Map), with the optional operations filled in from what the store has. Built once per cache.
 */
export interface StoreDriver {
  readonly name: string;
  readonly structuredValues: boolean;
  /** `set` keeps no reference to the value: see StoreCapabilities.serializesWrites. */
  readonly serializesWrites: boolean;
  readonly inProcess: boolean;
  readonly scanMode: ScanMode;
  readonly nativeMemoryUsage: boolean;
  readonly getSync: ((key: string) => unknown) | undefined;
  readonly leases: StoreLeases | undefined;
  /** The store's atomic create-if-absent, when it has one. */
  readonly setIfAbsent: ((entries: IfAbsentEntry[]) => Promise<string[]>) | undefined;
  readonly target: object;
  get(key: string): Promise<unknown>;
  getMany(keys: string[]): Promise<unknown[]>;
  set(key: string, value: unknown, ttlMs: number | undefined): Promise<void>;
  setMany(entries: DriverEntry[]): Promise<void>;
  delete(key: string): Promise<boolean>;
  deleteMany(keys: string[]): Promise<void>;
  /** Batches of raw keys matching a store-syntax glob. */
  scan(pattern: string): AsyncIterable<string[]>;
  memoryUsage(keys: string[]): Promise<Array<number | undefined>>;
  onError(listener: (error: unknown) => void): void;
  disconnect(): Promise<void>;
}

const SCAN_BATCH = 200;

export function createDriver(input: StoreInput): StoreDriver {
  if (input instanceof Map) return mapDriver(input, 'map');
  if (isKeyvInstance(input)) {
    const inner = input.store as unknown;
    if (inner instanceof Map) return mapDriver(inner, 'keyv(map)');
    return adapterDriver(inner as CacheStore);
  }
  if (typeof input !== 'object' || input === null || typeof (input as CacheStore).get !== 'function') {
    throw new CacheError('E_INVALID_OPTION', 'store must be a keyv store adapter, a Keyv instance or a Map');
  }
  return adapterDriver(input as CacheStore);
}

function isKeyvInstance(input: object): input is { store: unknown } {
  // Duck-typed: `instanceof Keyv` fails when two copies of keyv are installed.
  const candidate = input as { store?: unknown; serialize?: unknown; hooks?: unknown };
  return (
    typeof candidate.store === 'object' &&
    candidate.store !== null &&
    'hooks' in candidate &&
    'serialize' in candidate
  );
}

function adapterDriver(store: CacheStore): StoreDriver {
  const capabilities: StoreCapabilities = capabilitiesOf(store) ?? {
    name: store.constructor?.name ?? 'keyv-adapter',
  };
  const hasIterator = typeof store.iterator === 'function';
  const scanMode: ScanMode = capabilities.scan ? 'native' : hasIterator ? 'iterator' : 'none';
  const name = capabilities.name;

  // Not an async wrapper: the hottest call, and GuardedStore.run, its only caller, already turns
  // a synchronous answer or throw into a promise.
  const get = (key: string) => store.get(key) as Promise<unknown>;
  // keyv adapters report a refused write as `false` rather than an error. A `then`, not an async
  // layer: every write passes here. A synchronous throw is GuardedStore.run's to turn into a rejection.
  const set = (key: string, value: unknown, ttlMs: number | undefined): Promise<void> =>
    Promise.resolve(store.set(key, value, ttlMs)).then((result) => {
      if (result === false)
        throw new CacheError('E_STORE_ERROR', `store ${name} refused the write`, { key, store: name });
    });
  const driver: StoreDriver = {
    name,
    structuredValues: capabilities.structuredValues === true,
    serializesWrites: capabilities.structuredValues !== true || capabilities.serializesWrites === true,
    inProcess: capabilities.inProcess === true,
    scanMode,
    nativeMemoryUsage: typeof capabilities.memoryUsage === 'function',
    getSync: capabilities.getSync?.bind(capabilities),
    leases: capabilities.leases,
    setIfAbsent: capabilities.setIfAbsent?.bind(capabilities),
    target: store,
    get,
    getMany: store.getMany
      ? async (keys) => (await store.getMany?.(keys)) ?? []
      : (keys) => Promise.all(keys.map(get)),
    set,
    setMany: store.setMany
      ? async (entries) => {
          await store.setMany?.(entries.map(({ key, value, ttlMs }) => ({ key, value, ttl: ttlMs })));
        }
      : async (entries) => {
          await Promise.all(entries.map((entry) => set(entry.key, entry.value, entry.ttlMs)));
        },
    delete: async (key) => (await store.delete(key)) === true,
    deleteMany: store.deleteMany
      ? async (keys) => {
          await store.deleteMany?.(keys);
        }
      : async (keys) => {
          await Promise.all(keys.map((key) => store.delete(key)));
        },
    scan(pattern) {
      if (capabilities.scan) return capabilities.scan(pattern, { batchSize: SCAN_BATCH });
      if (hasIterator) return filterInBatches(iteratorKeys(store), pattern);
      throw new CacheError('E_UNSUPPORTED', `store ${name} cannot list keys`, { store: name });
    },
    memoryUsage: capabilities.memoryUsage
      ? (keys) => (capabilities.memoryUsage as NonNullable<StoreCapabilities['memoryUsage']>)(keys)
      : async (keys) =>
          (await driver.getMany(keys)).map((value, index) => estimateBytes(keys[index] as string, value)),
    onError(listener) {
      if (typeof store.on === 'function') store.on('error', listener);
    },
    async disconnect() {
      await store.disconnect?.();
    },
  };
  return driver;
}

function mapDriver(map: Map<string, unknown>, name: string): StoreDriver {
  const driver: StoreDriver = {
    name,
    structuredValues: false,
    serializesWrites: true,
    inProcess: true,
    scanMode: 'map',
    nativeMemoryUsage: false,
    getSync: (key) => map.get(key),
    leases: undefined,
    // In one process the check and the write cannot interleave with another creator.
    setIfAbsent: undefined,
    target: map,
    get: async (key) => map.get(key),
    getMany: async (keys) => keys.map((key) => map.get(key)),
    // A Map has no expiry: logical expiry in the envelope is what ends an entry's life here.
    set: async (key, value) => {
      map.set(key, value);
    },
    setMany: async (entries) => {
      for (const entry of entries) map.set(entry.key, entry.value);
    },
    delete: async (key) => map.delete(key),
    deleteMany: async (keys) => {
      for (const key of keys) map.delete(key);
    },
    // A live walk, not a copy of a million keys first: a Map iterator skips keys deleted meanwhile.
    scan: (pattern) => filterInBatches(toAsync(map.keys()), pattern),
    memoryUsage: async (keys) => keys.map((key) => estimateBytes(key, map.get(key))),
    onError() {},
    async disconnect() {},
  };
  return driver;
}

async function* iteratorKeys(store: CacheStore): AsyncIterable<string> {
  const iterator = store.iterator?.(store.namespace);
  if (!iterator) return;
  for await (const pair of iterator) {
    const key = (pair as unknown[])[0];
    if (typeof key === 'string') yield key;
  }
}

async function* toAsync(keys: Iterable<string>): AsyncIterable<string> {
  yield* keys;
}

async function* filterInBatches(keys: AsyncIterable<string>, pattern: string): AsyncIterable<string[]> {
  const matcher = compileGlob(pattern);
  // An iterator's steps are microtasks: without turns, I/O would wait for the whole walk.
  const turns = new EventLoopTurns();
  let seen = 0;
  let batch: string[] = [];
  for await (const key of keys) {
    const turn = turns.due(++seen + matcher.steps);
    if (turn !== undefined) await turn;
    if (!matcher.test(key)) continue;
    batch.push(key);
    if (batch.length >= SCAN_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Bytes a serialized entry occupies, roughly: key and value as UTF-8 (stores add overhead). */
export function estimateBytes(key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.byteLength(key) + Buffer.byteLength(text ?? '');
}
