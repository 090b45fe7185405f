import type { Keyv, KeyvStoreAdapter } from 'keyv';

/**
 * The store contract is keyv's `KeyvStoreAdapter`: any keyv adapter works. Our adapters also
 * advertise optional capabilities under this symbol; core detects them once, at construction.
 * `Symbol.for` keeps detection working when two copies of core are installed.
 */
export const storeCapabilities: unique symbol = Symbol.for('@org/cache-core/store-capabilities') as never;

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
  /** Every operation completes in-process and cannot hang: core skips per-operation deadlines. */
  readonly inProcess?: boolean;
  /** Synchronous read of what `set` stored; `undefined` on a miss or an expired entry. */
  getSync?(key: string): unknown;
  /**
   * Yields batches of raw store keys matching a Redis-style glob (`*`, `?`, `[..]`, `\` escapes).
   * The pattern is already escaped and scoped by core.
   */
  scan?(pattern: string, options?: StoreScanOptions): AsyncIterable<string[]>;
  /** Approximate bytes held for each key (key, value and overhead); `undefined` for a missing key. */
  memoryUsage?(keys: string[]): Promise<Array<number | undefined>>;
}

/** A keyv store adapter, optionally with our capabilities. */
export type CacheStore = KeyvStoreAdapter & { readonly [storeCapabilities]?: StoreCapabilities };

/** What `createCache({ store })` accepts: a keyv adapter, a `Keyv` instance, or a plain `Map`. */
export type StoreInput = CacheStore | Keyv | Map<string, unknown>;

export function capabilitiesOf(store: object): StoreCapabilities | undefined {
  return (store as { [storeCapabilities]?: StoreCapabilities })[storeCapabilities];
}
