import type { Keyv, KeyvStoreAdapter } from 'keyv';
import type { Codec } from '../codec/json.js';

/**
 * The store contract is keyv's `KeyvStoreAdapter`: any keyv adapter works. Our adapters also
 * advertise optional capabilities under this symbol; core detects them once, at construction.
 * `Symbol.for` keeps detection working when two copies of core are installed.
 */
export const storeCapabilities: unique symbol = Symbol.for('@org/cache-core/store-capabilities') as never;

/**
 * What `getSync` returns when it cannot answer without I/O (a two-tier store whose memory tier
 * does not hold the key): core then reads asynchronously. Plain `undefined` means "absent".
 */
export const syncUnknown: unique symbol = Symbol.for('@org/cache-core/sync-unknown') as never;

export interface StoreScanOptions {
  /** A hint for how many keys to look at per round trip. */
  batchSize?: number;
}

export interface StoreCapabilities {
  /** Short name used in health, metrics and error messages (`memory`, `redis`, `tiered`). */
  readonly name: string;
  /**
   * Values are kept by reference, never serialized: core then stores frozen envelope objects
   * and skips JSON on both paths. Only true for in-process stores.
   */
  readonly structuredValues?: boolean;
  /**
   * A structured store whose `set` turns the value into text before it returns and keeps no
   * reference to it (a tiered store whose L1 is not written on set): core may then hand it a
   * caller's plain-JSON value without copying and freezing it first. Serializing stores are so
   * by definition.
   */
  readonly serializesWrites?: boolean;
  /** Every operation completes in-process and cannot hang: core skips per-operation deadlines. */
  readonly inProcess?: boolean;
  /**
   * Synchronous read of what `set` stored: `undefined` when absent or expired, `syncUnknown` when
   * only an asynchronous read can tell.
   */
  getSync?(key: string): unknown;
  /**
   * Yields batches of raw store keys matching a Redis-style glob (`*`, `?`, `[..]`, `\` escapes).
   * The pattern is already escaped and scoped by core.
   */
  scan?(pattern: string, options?: StoreScanOptions): AsyncIterable<string[]>;
  /** Approximate bytes held for each key (key, value and overhead); `undefined` for a missing key. */
  memoryUsage?(keys: string[]): Promise<Array<number | undefined>>;
  /** Milliseconds before `key` expires in the store; `undefined` when it never expires or is absent. */
  remainingTtl?(key: string): Promise<number | undefined>;
  /** Cross-process fetch leases: one fetch per key per wave across every process on the store. */
  leases?: StoreLeases;
  /**
   * Writes each value only where its key holds nothing (atomically per key) and resolves to what
   * each key holds afterwards: the given value where the key was free, the existing one otherwise.
   * Processes racing to create the same tag token then agree on one.
   */
  setIfAbsent?(entries: IfAbsentEntry[]): Promise<string[]>;
  /**
   * For a structured store that also writes outside the process (a two-tier store's shared tier):
   * core hands it the cache's codec at construction, and the store encodes with it what leaves
   * the process, so an encrypting cache never sends plaintext. Throws E_INVALID_OPTION when the
   * store already serves a cache with another codec.
   */
  adoptCodec?(codec: Codec): void;
}

export interface IfAbsentEntry {
  key: string;
  value: string;
  /** Physical lifetime; `undefined` = no expiry. */
  ttlMs: number | undefined;
}

/**
 * Leases let many processes sharing a store fetch a cold key once (Facebook memcache's leases).
 * The store must also revoke a key's lease whenever `set`, `delete` or `deleteMany` touches the
 * key: a revoked lease is how an invalidation stops a late write from another process.
 */
export interface StoreLeases {
  /**
   * Takes the lease on `key` for `ttlMs` under `token` (unique, chosen by core): true when this
   * process should fetch, false when another holds it. Core chooses the token so that it can
   * release a lease whose acquire it stopped waiting for.
   */
  acquire(key: string, token: string, ttlMs: number): Promise<boolean>;
  /**
   * Writes `value` under `key` only if lease `token` still stands, releases it and wakes waiters,
   * atomically. Resolves to whether the value was written.
   */
  commit(key: string, token: string, value: unknown, ttlMs: number | undefined): Promise<boolean>;
  /** Gives the lease up without writing (the fetch failed or returned nothing) and wakes waiters. */
  release(key: string, token: string): Promise<void>;
  /**
   * Resolves when the lease on `key` is gone (committed, released, revoked, expired), after
   * `timeoutMs`, or as soon as `signal` aborts (the cache is closing). Never rejects.
   */
  waitForRelease(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Revokes the leases of every key matching a store-syntax glob (pattern invalidation). */
  revokeMatching(pattern: string): Promise<void>;
}

/** A keyv store adapter, optionally with our capabilities. */
export type CacheStore = KeyvStoreAdapter & { readonly [storeCapabilities]?: StoreCapabilities };

/** What `createCache({ store })` accepts: a keyv adapter, a `Keyv` instance, or a plain `Map`. */
export type StoreInput = CacheStore | Keyv | Map<string, unknown>;

export function capabilitiesOf(store: object): StoreCapabilities | undefined {
  return (store as { [storeCapabilities]?: StoreCapabilities })[storeCapabilities];
}
