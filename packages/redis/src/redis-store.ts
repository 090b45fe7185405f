import { EventEmitter } from 'node:events';
import { CacheError, escapeGlob } from '@org/cache-core';
import {
  type IfAbsentEntry,
  type StoreCapabilities,
  type StoreLeases,
  storeCapabilities,
} from '@org/cache-core/adapter';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { RedisConnection, type RedisConnectionOptions } from './connection.js';
import { FOREIGN_TYPE } from './foreign-type.js';
import { indexesBySlot } from './key-slot.js';
import { LeaseKeys } from './lease-keys.js';
import { RedisLeases } from './leases.js';
import { scanKeys } from './scan.js';
import { Subscriptions } from './subscriptions.js';
import { TrackedTagTokens } from './tracking/tag-tokens.js';
import {
  openTrackedConnection,
  type TrackedConnection,
  type TrackedConnectionOptions,
  type TrackingListener,
} from './tracking/tracked-connection.js';

/** Where Redis is (`url`, `client`, `cluster` or `sentinel`: one, required) and how the store uses it. */
export type RedisStoreOptions = RedisConnectionOptions & {
  /** Keys per SCAN round trip for pattern operations. Default 500. */
  scanCount?: number;
  /** For keyv users: `clear()` and `iterator()` work on `${namespace}:*` only. Keyv sets it. */
  namespace?: string;
  /**
   * Keeps tag version tokens in process, read through a dedicated RESP3 connection with client
   * tracking, so Redis invalidates them: a tagged read is then one round trip instead of two.
   * Needs Redis 6+ and, with ACLs, `+client|tracking` and `+hello`; refused, tokens are read from
   * Redis every time (`tagTracking.refused` says why). Default false. Not needed under a
   * `tieredStore` (its L1 keeps tokens already).
   */
  trackTagTokens?: boolean;
};

/**
 * A keyv store adapter on Redis (node-redis v5, from @keyv/redis), hardened for a cache: commands
 * fail fast while disconnected, errors are thrown (never turned into silent misses: core decides
 * what a failure means), TTLs are whole positive milliseconds, and `clear()` never leaves its
 * namespace. With core it adds native SCAN (every master on a cluster), MEMORY USAGE and
 * cross-process leases.
 */
export class RedisStore extends EventEmitter implements KeyvStoreAdapter {
  readonly connection: RedisConnection;
  readonly opts: { dialect: 'redis'; url: string };
  namespace: string | undefined;
  readonly [storeCapabilities]: StoreCapabilities;
  private readonly leaseKeys: LeaseKeys;
  private readonly subscriptions: Subscriptions;
  private readonly scanCount: number;
  /** With `trackTagTokens`: the tokens kept in process. */
  readonly tagTracking: TrackedTagTokens | undefined;

  constructor(options: RedisStoreOptions) {
    super();
    // `?? {}`: a plain-JS `redisStore()` reaches the connection's E_INVALID_OPTION, not a TypeError.
    const {
      scanCount = 500,
      namespace,
      trackTagTokens = false,
      ...connection
    } = options ?? ({} as RedisStoreOptions);
    if (typeof trackTagTokens !== 'boolean') {
      throw new CacheError('E_INVALID_OPTION', 'redisStore: trackTagTokens must be a boolean');
    }
    if (!Number.isInteger(scanCount) || scanCount < 1) {
      throw new CacheError('E_INVALID_OPTION', 'redisStore: scanCount must be a positive integer');
    }
    this.connection = new RedisConnection(connection);
    // keyv reads `opts.dialect` to decide whether the adapter can iterate.
    this.opts = { dialect: 'redis', url: connection.url ?? '' };
    this.namespace = namespace;
    this.scanCount = scanCount;
    this.leaseKeys = new LeaseKeys(this.connection.mode === 'cluster');
    this.subscriptions = new Subscriptions(this.connection);
    const leases: StoreLeases = new RedisLeases(
      this.connection,
      this.leaseKeys,
      this.subscriptions,
      scanCount,
    );
    this[storeCapabilities] = {
      name: this.connection.mode === 'cluster' ? 'redis-cluster' : 'redis',
      scan: (pattern, scanOptions) =>
        scanKeys(this.connection, pattern, scanOptions?.batchSize ?? this.scanCount),
      memoryUsage: (keys) =>
        Promise.all(
          keys.map(
            async (key) =>
              (await this.command<number | null>(['MEMORY', 'USAGE', key], key, true)) ?? undefined,
          ),
        ),
      remainingTtl: async (key) => {
        const ttl = await this.command<number>(['PTTL', key], key, true);
        return ttl >= 0 ? ttl : undefined;
      },
      leases,
      setIfAbsent: (entries) => Promise.all(entries.map((entry) => this.setIfAbsent(entry))),
    };
    if (trackTagTokens) {
      let tokens: TrackedTagTokens;
      try {
        tokens = new TrackedTagTokens(this.connection);
      } catch (error) {
        // Refused (E_INVALID_OPTION for a borrowed Sentinel client): the connection opened above must not linger.
        void this.connection.close({ wait: false });
        throw error;
      }
      this.tagTracking = tokens;
      // Core reads tag tokens through getSync when every one is known: no round trip for them.
      this[storeCapabilities].getSync = (key) => tokens.getSync(key);
    }
  }

  /**
   * `SET key value NX GET` (Redis 7+): writes only where the key is free and answers the value
   * that was there, so every racer learns the one value that won, in one round trip.
   */
  private async setIfAbsent(entry: IfAbsentEntry): Promise<string> {
    this.tagTracking?.forget([entry.key]);
    const px = ttlArgument(entry.ttlMs, entry.key);
    const args = ['SET', entry.key, entry.value, 'NX', 'GET'];
    if (px !== undefined && px !== 'expired') args.push('PX', px);
    const existing = await this.command<string | null>(args, entry.key);
    return existing ?? entry.value;
  }

  /**
   * A dedicated RESP3 connection with client tracking (one per master on a cluster), to the same
   * server(s) and with the same settings as this store's: what is read through it is invalidated
   * by Redis (see `TrackedNode`, `TrackedCluster`, `TrackedSentinel`). The tiered store opens one
   * for `coherence: 'tracking'`; the caller closes it. E_INVALID_OPTION for a borrowed Sentinel
   * client (`redisStore({ client })`), whose connection options node-redis keeps private.
   */
  openTracking(listener: TrackingListener, options?: TrackedConnectionOptions): TrackedConnection {
    return openTrackedConnection(this.connection, listener, options);
  }

  /** The node-redis client, for what the adapter does not cover. */
  get client() {
    return this.connection.client;
  }

  // keyv's generic signatures, so a RedisStore type-checks as a `KeyvStoreAdapter`; values are strings.
  get<Value = string>(key: string): Promise<StoredData<Value> | undefined> {
    // `then` rather than async/await: the hottest call of the store, and a promise less.
    return this.command<string | null>(['GET', key], key, true).then(
      (value) => (value ?? undefined) as StoredData<Value> | undefined,
      (error: unknown) => {
        // Another program put a non-string (a hash, a list) where an entry belongs. That is bad
        // data, not a failing Redis: answer something that is not an envelope, so core counts a
        // corrupt entry (and replaces it) instead of a store error that would open the breaker
        // for every key.
        if (String((error as Error)?.message).startsWith('WRONGTYPE'))
          return FOREIGN_TYPE as StoredData<Value>;
        throw error;
      },
    );
  }

  async getMany<Value = string>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return (await this.mget(keys)) as Array<StoredData<Value | undefined>>;
  }

  private async mget(keys: string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const tokens = this.tagTracking;
    if (tokens?.covers(keys)) {
      // Tag tokens through the tracked connection (kept until Redis invalidates them); if that
      // connection fails, the regular one answers and nothing is kept.
      return tokens.read(keys).catch(() => this.mgetUntracked(keys));
    }
    return this.mgetUntracked(keys);
  }

  private async mgetUntracked(keys: string[]): Promise<Array<string | undefined>> {
    if (this.connection.mode !== 'cluster') {
      const values = await this.command<Array<string | null>>(['MGET', ...keys], keys[0], true);
      return values.map((value) => value ?? undefined);
    }
    // MGET must not cross slots on a cluster: one MGET per slot, in parallel, back in order.
    const bySlot = indexesBySlot(keys);
    const result = new Array<string | undefined>(keys.length);
    await Promise.all(
      [...bySlot.values()].map(async (indexes) => {
        const slotKeys = indexes.map((index) => keys[index] as string);
        const values = await this.command<Array<string | null>>(['MGET', ...slotKeys], slotKeys[0], true);
        indexes.forEach((index, position) => {
          result[index] = values[position] ?? undefined;
        });
      }),
    );
    return result;
  }

  /** `ttl` in ms: 0 or undefined = no expiry; fractions round up; a negative TTL deletes. */
  /**
   * Not an async function: the write path's every layer costs (see bench/write-path.md). Misuse
   * (an unserializable value, a bad ttl) still rejects rather than throws.
   */
  set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    let command: string[];
    try {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (text === undefined)
        throw new CacheError('E_INVALID_VALUE', 'redisStore: value is not serializable', { key });
      const px = ttlArgument(ttl, key);
      // Before the write is sent: this process must not validate against the token it replaces.
      this.tagTracking?.forget([key]);
      if (px === 'expired') return this.delete(key).then(() => true);
      command = px === undefined ? ['SET', key, text] : ['SET', key, text, 'PX', px];
    } catch (error) {
      return Promise.reject(error);
    }
    // No lease to revoke: a fetch in flight elsewhere finds the entry changed at its commit and
    // leaves this newer value alone (scripts.ts), so a set is one command, as a raw client's.
    return this.command<string | null>(command, key).then(isOk);
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    for (const entry of entries) ttlArgument(entry.ttl, entry.key);
    await Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.ttl)));
  }

  async delete(key: string): Promise<boolean> {
    this.tagTracking?.forget([key]);
    const leaseKey = this.leaseKeys.of(key);
    // Deleting revokes the fetch lease too: the invalidation wins over a fetch in flight anywhere.
    const [deleted] = await Promise.all([
      this.command<number>(['DEL', key], key),
      leaseKey === undefined ? undefined : this.command(['DEL', leaseKey], leaseKey),
    ]);
    return deleted === 1;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const results = await Promise.all(keys.map((key) => this.delete(key)));
    return results.some(Boolean);
  }

  async has(key: string): Promise<boolean> {
    return (await this.command<number>(['EXISTS', key], key, true)) === 1;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  /** Deletes this namespace's keys. Without a namespace it refuses: it never flushes a database. */
  async clear(): Promise<void> {
    if (this.namespace === undefined || this.namespace === '') {
      throw new CacheError(
        'E_UNSUPPORTED',
        'redisStore.clear() needs a namespace: it never deletes keys it cannot prove are its own',
      );
    }
    for await (const batch of scanKeys(this.connection, `${escapeGlob(this.namespace)}:*`, this.scanCount)) {
      this.tagTracking?.forget(batch);
      await Promise.all(batch.map((key) => this.command(['DEL', key], key)));
    }
  }

  /** keyv's iterator: `[key, value]` pairs of `${namespace}:*` (every key without a namespace). */
  async *iterator<Value>(
    namespace?: string,
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const scope = namespace ?? this.namespace;
    const pattern = scope ? `${escapeGlob(scope)}:*` : '*';
    for await (const batch of scanKeys(this.connection, pattern, this.scanCount)) {
      const values = await this.mget(batch);
      for (let index = 0; index < batch.length; index++) {
        const value = values[index];
        if (value !== undefined) yield [batch[index] as string, value];
      }
    }
  }

  /** Closes what this store opened. A client passed in as `client` stays open. Idempotent. */
  async disconnect(): Promise<void> {
    await this.tagTracking?.close();
    await this.subscriptions.close();
    await this.connection.close();
  }

  private command<T>(args: string[], key: string | undefined, readonly = false): Promise<T> {
    return this.connection.command<T>(args, key, readonly);
  }
}

function ttlArgument(ttl: number | undefined, key: string): string | undefined | 'expired' {
  if (ttl === undefined || ttl === null || ttl === 0 || ttl === Number.POSITIVE_INFINITY) return undefined;
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new CacheError('E_INVALID_OPTION', `redisStore: ttl must be a number of ms, got ${String(ttl)}`, {
      key,
    });
  }
  // Redis refuses fractional or non-positive PX: round up, and treat a past TTL as expired.
  if (ttl < 0) return 'expired';
  return String(Math.ceil(ttl));
}

/**
 * A Redis store for `createCache({ store: redisStore({ url: 'redis://cache.internal:6379' }) })`,
 * and a keyv adapter in its own right (`new Keyv({ store: redisStore({ url }) })`). Where Redis is
 * must be said (`url`, `client`, `cluster` or `sentinel`): there is no default server, so a
 * missing `REDIS_URL` is an `E_INVALID_OPTION`, not a quiet connection to localhost.
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}

const isOk = (reply: string | null): boolean => reply === 'OK';
