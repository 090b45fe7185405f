import { EventEmitter } from 'node:events';
import { CacheError } from '@org/cache-core';
import { EventLoopTurns, type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { CacheableMemory } from 'cacheable';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { memoryCapabilities } from './capabilities.js';
import { heldKeys, peek, walkEntries } from './entries.js';
import { type MemoryStoreOptions, type ResolvedMemoryStoreOptions, resolveOptions } from './options.js';
import { startSweeper } from './sweeper.js';
import { lifetimeMs } from './ttl.js';

export interface MemoryStoreStats {
  /** Entries held, including expired ones the sweep has not removed yet. */
  entries: number;
  /** `undefined` when unbounded. */
  maxEntries: number | undefined;
  /** Entries pushed out by the LRU bound since the store was created. */
  evictions: number;
}

/**
 * `MemoryStore#opts`, the options object Keyv reads from a store adapter: the store's resolved
 * `maxEntries`, `ttl` and `checkInterval`, plus the `dialect` and `url` Keyv needs to offer
 * `Keyv#iterator()` over this store.
 */
export interface MemoryStoreKeyvOptions {
  /**
   * keyv 5.6 only exposes `Keyv#iterator()` for stores whose `opts.dialect` is on a fixed list
   * (and throws if neither that nor `opts.url` is usable). Our iterator follows the redis
   * adapter's contract (`namespace:` prefixed keys, expired entries skipped), so we claim that
   * dialect; nothing else in keyv or cacheable reads it.
   */
  dialect: 'redis';
  url: string;
  maxEntries: number | undefined;
  ttl: number | undefined;
  checkInterval: number;
  [option: string]: unknown;
}

/** An in-process keyv store adapter with LRU and TTL, plus core's optional capabilities. */
export class MemoryStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: MemoryStoreKeyvOptions;
  /** Set by Keyv; keys it writes are `${namespace}:${key}`, and `clear()` is scoped to them. */
  namespace: string | undefined;
  readonly [storeCapabilities]: StoreCapabilities;
  readonly #memory: CacheableMemory;
  readonly #options: ResolvedMemoryStoreOptions;
  readonly #stopSweeper: () => void;
  #evictions = 0;

  constructor(options?: MemoryStoreOptions) {
    super();
    const resolved = resolveOptions(options);
    this.#options = resolved;
    this.#memory = new CacheableMemory({
      // Core freezes values on write, so handing out the stored reference is safe, and cloning
      // on every read (structuredClone, ~6 us per 1 KB) would cost more than the rest of a hit
      // and break getSync's "same object back" contract. Keyv users store strings anyway.
      useClone: false,
      lruSize: resolved.maxEntries ?? 0,
      // One Map, not cacheable's 16 shards: choosing a shard hashes the key (djb2) on every read,
      // which measured ~30x slower than the read itself. The price is one Map's ceiling of 2^24
      // entries, which an "unbounded" store then reports as E_STORE_ERROR.
      storeHashSize: 1,
      // No `ttl` here: the default is applied by lifetimeMs, and CacheableMemory's own timer is
      // replaced by startSweeper.
    });
    this.#stopSweeper = startSweeper(this.#memory, resolved.checkIntervalMs);
    this.opts = {
      dialect: 'redis',
      url: 'memory://',
      maxEntries: resolved.maxEntries,
      ttl: resolved.defaultTtlMs,
      checkInterval: resolved.checkIntervalMs,
    };
    this[storeCapabilities] = memoryCapabilities(this.#memory);
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#memory.get<StoredData<Value>>(key);
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return keys.map((key) => this.#memory.get<StoredData<Value>>(key));
  }

  /** `ttl` in ms; see lifetimeMs for 0, fractions, negatives and the default. Resolves to true. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.#write(key, value, lifetimeMs(ttl, this.#options.defaultTtlMs));
    return true;
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    // Every TTL is checked before anything is written: a bad entry leaves the store untouched.
    const lifetimes = entries.map((entry) => lifetimeMs(entry.ttl, this.#options.defaultTtlMs));
    entries.forEach((entry, index) => {
      this.#write(entry.key, entry.value, lifetimes[index]);
    });
  }

  /** Resolves to true when a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    const existed = peek(this.#memory, key) !== undefined;
    this.#memory.delete(key);
    return existed;
  }

  /** Resolves to true when at least one live entry was removed (as Redis DEL reports a count). */
  async deleteMany(keys: string[]): Promise<boolean> {
    let deleted = false;
    for (const key of keys) {
      if (peek(this.#memory, key) !== undefined) deleted = true;
      this.#memory.delete(key);
    }
    return deleted;
  }

  /** With a namespace set (Keyv sets one), removes only `${namespace}:` keys; else everything. */
  async clear(): Promise<void> {
    if (!this.namespace) {
      this.#memory.clear();
      return;
    }
    this.#memory.deleteMany(heldKeys(this.#memory, `${this.namespace}:`));
  }

  async has(key: string): Promise<boolean> {
    return peek(this.#memory, key) !== undefined;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return keys.map((key) => peek(this.#memory, key) !== undefined);
  }

  /**
   * `[key, value]` for each live entry, keys as stored (`${namespace}:` included); only that
   * namespace's entries when one is given. A live walk: the caller may delete while iterating,
   * and an entry deleted or expired before it is reached is skipped. Gives the event loop a turn
   * every few milliseconds, as a scan does.
   */
  async *iterator<Value>(
    namespace?: string,
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const prefix = namespace ? `${namespace}:` : '';
    const turns = new EventLoopTurns();
    let seen = 0;
    for (const item of walkEntries(this.#memory)) {
      // peek, not the walked item: after a clear() the walk goes on over the old, dropped map.
      const live = item.key.startsWith(prefix) ? peek(this.#memory, item.key) : undefined;
      if (live !== undefined) yield [live.key, live.value as Awaited<Value>];
      const turn = turns.due(++seen);
      if (turn !== undefined) await turn;
    }
  }

  /** Stops the expiry sweep. Entries stay readable; calling it again is harmless. */
  async disconnect(): Promise<void> {
    this.#stopSweeper();
  }

  /** Entries held, including expired ones not swept yet. */
  size(): number {
    return this.#memory.size;
  }

  stats(): MemoryStoreStats {
    return { entries: this.#memory.size, maxEntries: this.#options.maxEntries, evictions: this.#evictions };
  }

  #write(key: string, value: unknown, ms: number | undefined): void {
    if (ms !== undefined && ms <= 0) {
      // A lifetime that already ended: the write replaces the old value with nothing.
      this.#memory.delete(key);
      return;
    }
    if (this.#options.maxEntries === undefined) {
      try {
        this.#memory.set(key, value, ms);
      } catch (error) {
        throw new CacheError('E_STORE_ERROR', `memory store cannot hold another entry: ${String(error)}`, {
          key,
          store: 'memory',
          cause: error,
        });
      }
      return;
    }
    // CacheableMemory evicts silently: a new key that does not grow the store pushed one out.
    const isNew = !this.#memory.getStore(key).has(key);
    const sizeBefore = this.#memory.size;
    this.#memory.set(key, value, ms);
    if (isNew && this.#memory.size === sizeBefore) this.#evictions++;
  }
}

/**
 * An in-process store: bounded LRU (10,000 entries by default) with per-entry TTL. A keyv store
 * adapter in its own right, and the store that core reads synchronously for its L1 fast path.
 *
 * Values are kept and returned by reference, never cloned: through core (which freezes them) or
 * Keyv (which stores strings) that is safe; code that uses the adapter directly with objects must
 * not mutate what it stored or read.
 *
 * @example
 * const cache = createCache({ store: memoryStore({ maxEntries: 50_000, ttl: '10m' }) });
 * const keyv = new Keyv({ store: memoryStore() });
 */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}
