import { EventEmitter } from 'node:events';
import { CacheError, type CacheStore, type Codec, type Duration, parseDuration } from '@org/cache-core';
import {
  type CacheBus,
  capabilitiesOf,
  type IfAbsentEntry,
  type StoreCapabilities,
  type StoreLeases,
  storeCapabilities,
  syncUnknown,
} from '@org/cache-core/adapter';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { Coherence, type CoherenceStats, type Invalidation } from './coherence.js';
import { FillGuard } from './fill-guard.js';
import { fromL2, l1TtlFor, toL2 } from './l2-format.js';
import { canTrack, type TrackedReads, type TrackingStats } from './tracking/tracking-source.js';

export interface TieredStoreOptions {
  /** The in-process tier: `memoryStore()` (it must read synchronously and keep values by reference). */
  l1: CacheStore;
  /** The shared tier: `redisStore()`, or any keyv adapter. */
  l2: CacheStore;
  /**
   * How every instance's L1 stays coherent with L2:
   * - `'tracking'`: Redis itself tells this instance which of the keys it read into L1 changed
   *   (RESP3 client tracking on a dedicated connection of the `redisStore()` L2): anybody's write
   *   through Redis is seen, `redis-cli` included. Needs Redis 6+ and `+client|tracking`.
   * - `'bus'`: instances tell each other over `bus` (any L2): only writes made through this SDK
   *   are seen.
   * Default: `'bus'` when a bus is given, else none (other instances' writes are seen only when
   * this instance's L1 copies expire: a single instance only). `'tracking'` with a bus runs both
   * (L1 is trusted only while both are up), for fleets that mix bus-only instances in.
   */
  coherence?: 'tracking' | 'bus';
  /** The bus for `coherence: 'bus'`: `redisBus()`. */
  bus?: CacheBus;
  /** Upper bound on an L1 copy's life, whatever L2 says. Default 1 minute. */
  l1Ttl?: Duration;
  /** Bus messages kept for retry while publishing fails. Default 1000. */
  busQueueSize?: number;
}

export interface TieredStats {
  l1Hits: number;
  l2Reads: number;
  /** Times L1 was dropped whole because the bus disconnected or lost messages. */
  l1Resets: number;
  bus: CoherenceStats | undefined;
  /** Client tracking's counters with `coherence: 'tracking'`. */
  tracking: TrackingStats | undefined;
}

/**
 * L1 in memory in front of a shared L2, as one store for `createCache`. Reads: L1, then L2 (an L2
 * hit fills L1 for at most L2's remaining lifetime and `l1Ttl`). Writes and deletes: L2 first,
 * then L1, then a bus message so other instances drop their copies. While the bus is down, or
 * after it lost messages, L1 is dropped and bypassed until messages flow again.
 *
 * An L1 hit is a synchronous map lookup of a frozen object: no JSON, no clone, no await.
 */
export class TieredStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { dialect: 'redis'; url: string };
  #namespace: string | undefined;
  readonly [storeCapabilities]: StoreCapabilities;
  readonly stats: TieredStats = { l1Hits: 0, l2Reads: 0, l1Resets: 0, bus: undefined, tracking: undefined };
  private readonly l1: CacheStore;
  private readonly l2: CacheStore;
  private readonly l1Get: (key: string) => unknown;
  private readonly l2Capabilities: StoreCapabilities | undefined;
  private readonly l1TtlMs: number;
  private readonly coherence: Coherence | undefined;
  /** False while L1 cannot be trusted (bus or tracking down): reads go to L2 and L1 is not filled. */
  private trusted = true;
  /** Up when there is no bus; else whether the bus carries messages. */
  private busUp = true;
  /** Up when there is no tracking; else whether Redis tracks what is read into L1. */
  private trackingUp = true;
  private readonly tracking: TrackedReads | undefined;
  private readonly fills = new FillGuard();
  private readonly bus: CacheBus | undefined;
  /** How envelopes are encoded in L2: the codec of the caches using this store (set by core). */
  private codec: Codec | undefined;

  constructor(options: TieredStoreOptions) {
    super();
    const l1Capabilities = capabilitiesOf(options?.l1 ?? {});
    const getSync = l1Capabilities?.getSync;
    if (getSync === undefined || l1Capabilities?.structuredValues !== true) {
      throw new CacheError(
        'E_INVALID_OPTION',
        'tieredStore: l1 must be an in-process store such as memoryStore()',
      );
    }
    if (typeof options.l2?.get !== 'function')
      throw new CacheError('E_INVALID_OPTION', 'tieredStore: l2 is required');
    this.l1 = options.l1;
    this.l2 = options.l2;
    this.l1Get = getSync;
    this.l2Capabilities = capabilitiesOf(options.l2);
    this.l1TtlMs = parseDuration(options.l1Ttl ?? '1m', 'l1Ttl');
    this.opts = { dialect: 'redis', url: '' };
    this.bus = options.bus;
    const coherence = options.coherence ?? (options.bus === undefined ? undefined : 'bus');
    if (coherence !== undefined && coherence !== 'bus' && coherence !== 'tracking') {
      throw new CacheError(
        'E_INVALID_OPTION',
        `tieredStore: coherence must be 'tracking' or 'bus', got ${JSON.stringify(coherence)}`,
      );
    }
    if (coherence === 'bus' && options.bus === undefined) {
      throw new CacheError('E_INVALID_OPTION', "tieredStore: coherence: 'bus' needs a bus (redisBus())");
    }
    if (coherence === 'tracking') {
      if (!canTrack(options.l2)) {
        throw new CacheError(
          'E_INVALID_OPTION',
          "tieredStore: coherence: 'tracking' needs a redisStore() L2 (Redis client tracking); with another L2 use coherence: 'bus'",
        );
      }
      this.tracking = options.l2.openTracking({
        invalidate: (keys) => {
          this.fills.invalidate(keys);
          for (const key of keys) void this.l1.delete(key);
        },
        // Everything may have changed, but tracking is still on: empty L1 and go on using it.
        flushed: () => {
          this.distrust();
          this.updateTrust();
        },
        state: (up) => {
          this.trackingUp = up;
          if (!up) this.distrust();
          this.updateTrust();
        },
      });
      this.stats.tracking = this.tracking.stats;
      this.trackingUp = this.tracking.up;
    }
    if (options.bus !== undefined) {
      this.coherence = new Coherence(
        options.bus,
        {
          invalidate: (invalidation) => void this.dropFromL1(invalidation),
          distrust: () => {
            // Disconnected: stays untrusted until the bus says it is connected again (`trust`).
            this.busUp = options.bus?.connected !== false;
            this.distrust();
          },
          trust: () => {
            this.busUp = options.bus?.connected !== false;
            this.updateTrust();
          },
        },
        options.busQueueSize ?? 1000,
      );
      this.stats.bus = this.coherence.stats;
      this.busUp = options.bus.connected;
    }
    this.updateTrust();
    this[storeCapabilities] = this.capabilities();
  }

  /** keyv sets it; both tiers get it, so keyv's namespaced `clear()` and `iterator()` work. */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  set namespace(namespace: string | undefined) {
    this.#namespace = namespace;
    this.l1.namespace = namespace;
    this.l2.namespace = namespace;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const local = this.readL1(key);
    if (local !== syncUnknown) return local as StoredData<Value> | undefined;
    return (await this.readL2(key)) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return (await this.readMany(keys)) as Array<StoredData<Value | undefined>>;
  }

  private async readMany(keys: string[]): Promise<unknown[]> {
    const values = keys.map((key) => this.readL1(key));
    const missing = keys.filter((_, index) => values[index] === syncUnknown);
    if (missing.length === 0) return values;
    this.stats.l2Reads += missing.length;
    const tickets = missing.map((key) => this.fills.start(key));
    const [fetched, ttls] = await this.fetchMany(missing);
    let next = 0;
    return values.map((value) => {
      if (value !== syncUnknown) return value;
      const position = next++;
      const key = missing[position] as string;
      const parsed = fromL2(fetched[position], key, this.codec);
      const mayFill = this.fills.mayFill(key, tickets[position] as { valid: boolean });
      if (parsed !== undefined && mayFill) this.fillL1(key, parsed, ttls[position]);
      return parsed;
    });
  }

  /** Values and remaining lives from L2: through the tracked connection while tracking is on. */
  private async fetchMany(keys: string[]): Promise<[unknown[], Array<number | undefined>]> {
    const tracking = this.tracking;
    if (tracking?.up === true) {
      try {
        const reads = await tracking.readMany(keys);
        return [reads.map((read) => read.value), reads.map((read) => read.ttlMs)];
      } catch {
        // The tracked connection failed (it reports the loss itself): L2's own answer, not kept.
        this.fills.invalidate(keys);
      }
    } else if (tracking !== undefined) {
      this.fills.invalidate(keys); // not tracked: must not fill L1
    }
    const remaining = this.l2Capabilities?.remainingTtl;
    return Promise.all([
      this.l2.getMany?.(keys) ?? Promise.all(keys.map((key) => this.l2.get(key))),
      Promise.all(keys.map((key) => remaining?.(key).catch(() => undefined))),
    ]);
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.l2.set(key, toL2(value, key, this.codec), ttl);
    await this.writeL1(key, value, ttl);
    this.coherence?.publish({ keys: [key] });
    return true;
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const forL2 = entries.map((entry) => ({
      key: entry.key,
      value: toL2(entry.value, entry.key, this.codec),
      ttl: entry.ttl,
    }));
    if (this.l2.setMany) await this.l2.setMany(forL2);
    else await Promise.all(forL2.map((entry) => this.l2.set(entry.key, entry.value, entry.ttl)));
    await Promise.all(entries.map((entry) => this.writeL1(entry.key, entry.value, entry.ttl)));
    this.coherence?.publish({ keys: entries.map((entry) => entry.key) });
  }

  async delete(key: string): Promise<boolean> {
    const deleted = await this.l2.delete(key);
    this.fills.invalidate([key]);
    await this.l1.delete(key);
    this.coherence?.publish({ keys: [key] });
    return deleted;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const results = await Promise.all(keys.map((key) => this.l2.delete(key)));
    this.fills.invalidate(keys);
    await Promise.all(keys.map((key) => this.l1.delete(key)));
    this.coherence?.publish({ keys });
    return results.some(Boolean);
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async clear(): Promise<void> {
    await this.l2.clear();
    this.fills.invalidateAll();
    await this.l1.clear();
    this.coherence?.publish({ all: true });
  }

  async *iterator<Value>(
    namespace?: string,
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    if (typeof this.l2.iterator !== 'function') return;
    for await (const [key, value] of this.l2.iterator(namespace ?? this.namespace)) {
      yield [key as string, fromL2(value, key as string, this.codec) as Awaited<Value>];
    }
  }

  /** Stops the bus protocol and disconnects both tiers (each store decides what it owns). */
  async disconnect(): Promise<void> {
    await this.coherence?.close();
    await this.tracking?.close();
    await Promise.all([this.l1.disconnect?.(), this.l2.disconnect?.(), this.bus?.close()]);
  }

  /**
   * Resolves once L1 can be used: tracking is on (with `coherence: 'tracking'`). Rejects with
   * `E_INVALID_OPTION` when Redis refuses tracking (ACL user without `+client|tracking`, Redis < 6):
   * await it at start-up to fail there. Until then, and for good after a refusal, every read
   * goes to L2 and L1 stays empty: slower, never stale.
   */
  async ready(): Promise<void> {
    await this.tracking?.ready();
  }

  /** L1 is in use: every channel that keeps it coherent is up (false while it is bypassed). */
  get l1InUse(): boolean {
    return this.trusted;
  }

  /** Drops L1 whole and reads around it until `updateTrust` finds every channel up again. */
  private distrust(): void {
    if (this.trusted) this.stats.l1Resets++;
    this.trusted = false;
    this.fills.invalidateAll();
    void this.l1.clear();
  }

  private updateTrust(): void {
    this.trusted = this.busUp && this.trackingUp;
  }

  /** L1's answer, or `syncUnknown` when only L2 can tell. */
  private readL1(key: string): unknown {
    if (!this.trusted) return syncUnknown;
    const value = this.l1Get(key);
    if (value === undefined) return syncUnknown;
    this.stats.l1Hits++;
    return value;
  }

  private async readL2(key: string): Promise<unknown> {
    this.stats.l2Reads++;
    // Started before the read is sent: an invalidation of `key` from now on trips it (see
    // TrackedConnection for why an invalidation can never slip between the read and this guard).
    const ticket = this.fills.start(key);
    const [raw, ttl] = await this.fetch(key);
    const value = fromL2(raw, key, this.codec);
    if (this.fills.mayFill(key, ticket) && value !== undefined) this.fillL1(key, value, ttl);
    return value;
  }

  private async fetch(key: string): Promise<[unknown, number | undefined]> {
    const tracking = this.tracking;
    if (tracking?.up === true) {
      try {
        const read = await tracking.read(key);
        return [read.value, read.ttlMs];
      } catch {
        // The tracked connection failed (it reports the loss itself): L2's own answer, not kept.
        this.fills.invalidate([key]);
      }
    } else if (tracking !== undefined) {
      // Tracking is down: Redis would not tell us when this value changes, so it must not fill L1.
      this.fills.invalidate([key]);
    }
    const remaining = this.l2Capabilities?.remainingTtl;
    return Promise.all([
      this.l2.get(key),
      remaining === undefined ? undefined : remaining(key).catch(() => undefined),
    ]);
  }

  private fillL1(key: string, value: unknown, l2TtlMs: number | undefined): void {
    if (!this.trusted) return;
    const ttl = l1TtlFor(value, l2TtlMs, this.l1TtlMs);
    if (ttl > 0) void this.l1.set(key, value, ttl);
  }

  private async writeL1(key: string, value: unknown, ttl: number | undefined): Promise<void> {
    // This write is newer than anything an L2 read in flight may bring back.
    this.fills.invalidate([key]);
    // With tracking, L1 may only hold what was read through the tracked connection: a written
    // value is not tracked (a write registers nothing, and this write's own invalidation may
    // arrive before or after this line), so another instance's next write would never drop it.
    // The next read fetches it, tracked.
    if (!this.trusted || this.tracking !== undefined) {
      await this.l1.delete(key);
      return;
    }
    await this.l1.set(key, value, Math.min(ttl && ttl > 0 ? ttl : this.l1TtlMs, this.l1TtlMs));
  }

  private async dropFromL1(invalidation: Invalidation): Promise<void> {
    if ('keys' in invalidation) this.fills.invalidate(invalidation.keys);
    else this.fills.invalidateAll();
    if ('keys' in invalidation) {
      for (const key of invalidation.keys) await this.l1.delete(key);
    } else if ('patterns' in invalidation) {
      const scan = capabilitiesOf(this.l1)?.scan;
      if (scan === undefined) {
        await this.l1.clear();
        return;
      }
      for (const pattern of invalidation.patterns) {
        for await (const batch of scan(pattern)) for (const key of batch) await this.l1.delete(key);
      }
    } else {
      await this.l1.clear();
    }
  }

  /** One codec per store: every cache on it must read what the others write to L2. */
  private adoptCodec(codec: Codec): void {
    if (this.codec !== undefined && this.codec !== codec) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `tieredStore: already used by a cache with codec ${this.codec.name}; every cache on one tiered store must share one codec object (got ${codec.name})`,
      );
    }
    this.codec = codec;
  }

  private capabilities(): StoreCapabilities {
    const l2 = this.l2Capabilities;
    const capabilities: StoreCapabilities = {
      name: `tiered(${capabilitiesOf(this.l1)?.name ?? 'l1'}+${l2?.name ?? 'l2'})`,
      structuredValues: true,
      // With tracking a set only drops L1's copy (writeL1): the value goes to L2 as text at once.
      serializesWrites: this.tracking !== undefined,
      getSync: (key) => this.readL1(key),
      adoptCodec: (codec) => this.adoptCodec(codec),
      ...(l2?.scan === undefined ? {} : { scan: l2.scan }),
      ...(l2?.memoryUsage === undefined ? {} : { memoryUsage: l2.memoryUsage }),
      ...(l2?.remainingTtl === undefined ? {} : { remainingTtl: l2.remainingTtl }),
    };
    if (l2?.leases !== undefined) capabilities.leases = this.leasesThrough(l2.leases);
    const setIfAbsent = l2?.setIfAbsent;
    if (setIfAbsent !== undefined)
      capabilities.setIfAbsent = (entries) => this.setIfAbsentThrough(setIfAbsent.bind(l2), entries);
    return capabilities;
  }

  /**
   * The atomic create happens in L2, the one place every instance shares; L1 keeps whichever value
   * won, and the others hear about the keys this instance did write.
   */
  private async setIfAbsentThrough(
    setIfAbsent: (entries: IfAbsentEntry[]) => Promise<string[]>,
    entries: IfAbsentEntry[],
  ): Promise<string[]> {
    const winners = await setIfAbsent(entries);
    await Promise.all(entries.map((entry, index) => this.writeL1(entry.key, winners[index], entry.ttlMs)));
    const written = entries
      .filter((entry, index) => winners[index] === entry.value)
      .map((entry) => entry.key);
    if (written.length > 0) this.coherence?.publish({ keys: written });
    return winners;
  }

  /**
   * The lease lives in L2; a commit also updates L1 and tells the other instances. Core reads the
   * entry again after waiting on a lease and after taking one (another instance may have just
   * written it): that read must reach L2, because this L1's copy is older and the message that
   * drops it (bus or Redis push) may still be on its way. Without this, an instance that waited
   * on another's eager refresh found its own old copy past the refresh point and refreshed again.
   */
  private leasesThrough(leases: StoreLeases): StoreLeases {
    return {
      acquire: async (key, token, ttlMs) => {
        const acquired = await leases.acquire(key, token, ttlMs);
        if (acquired) await this.dropFromL1({ keys: [key] });
        return acquired;
      },
      release: (key, token) => leases.release(key, token),
      waitForRelease: async (key, timeoutMs, signal) => {
        await leases.waitForRelease(key, timeoutMs, signal);
        await this.dropFromL1({ keys: [key] });
      },
      commit: async (key, token, value, ttlMs) => {
        const written = await leases.commit(key, token, toL2(value, key, this.codec), ttlMs);
        if (written) {
          await this.writeL1(key, value, ttlMs);
          this.coherence?.publish({ keys: [key] });
        }
        return written;
      },
      revokeMatching: async (pattern) => {
        await leases.revokeMatching(pattern);
        await this.dropFromL1({ patterns: [pattern] });
        this.coherence?.publish({ patterns: [pattern] });
      },
    };
  }
}

/** A two-tier store: `createCache({ store: tieredStore({ l1: memoryStore(), l2: redisStore({ url }), bus: redisBus({ url }) }) })`. */
export function tieredStore(options: TieredStoreOptions): TieredStore {
  return new TieredStore(options);
}
