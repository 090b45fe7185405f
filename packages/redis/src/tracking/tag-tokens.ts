import { syncUnknown } from '@org/cache-core/adapter';
import type { RedisConnection } from '../connection.js';
import { openTrackedConnection, type TrackedConnection } from './tracked-connection.js';

/**
 * Core keeps a tag's version token at `<prefix>::tag:<tag>` (a double separator: no entry key can
 * take this shape). The layout is core's; tag-tokens-redis.test.ts fails if it ever moves.
 */
const TAG_KEY = '::tag:';
const MAX_TOKENS = 10_000;

interface Held {
  value: string | undefined;
  /** performance.now() past which the token may be gone from Redis; Infinity without expiry. */
  until: number;
}

/**
 * Tag version tokens read through a tracked connection and kept in process, so a tagged read on
 * Redis costs one round trip (the entry) instead of two (entry, then tokens). Redis invalidates
 * a kept token when anybody writes it (an `invalidateTags` anywhere), or it expires or is evicted;
 * a lost tracking connection, a flush or a refusal empties the cache and sends reads to Redis
 * again, so an invalidation is never missed: at worst a token is read once more.
 *
 * A write of a tag key through this store forgets the kept token before the write is sent, and
 * trips every read of that key in flight: the writer never validates against its own old token,
 * even before its invalidation comes back from Redis.
 */
export class TrackedTagTokens {
  private readonly held = new Map<string, Held>();
  /** Reads in flight per key: an invalidation or write trips them, and their value is not kept. */
  private readonly pending = new Map<string, Set<{ valid: boolean }>>();
  private readonly tracked: TrackedConnection;
  hits = 0;
  reads = 0;

  constructor(connection: RedisConnection) {
    this.tracked = openTrackedConnection(connection, {
      invalidate: (keys) => this.forget(keys),
      flushed: () => this.forgetAll(),
      state: () => this.forgetAll(),
    });
  }

  get stats() {
    return { ...this.tracked.stats, tokenHits: this.hits, tokenReads: this.reads, held: this.held.size };
  }

  /** The tracking connection refused (ACL, old Redis): tokens are then always read from Redis. */
  get refused(): Error | undefined {
    return this.tracked.refused;
  }

  ready(): Promise<void> {
    return this.tracked.ready();
  }

  static isTagKey(key: string): boolean {
    return key.includes(TAG_KEY);
  }

  /** A kept token (`undefined`: the tag has none), or `syncUnknown`: ask Redis. */
  getSync(key: string): unknown {
    if (!this.tracked.up || !TrackedTagTokens.isTagKey(key)) return syncUnknown;
    const held = this.held.get(key);
    if (held === undefined) return syncUnknown;
    if (performance.now() >= held.until) {
      this.held.delete(key);
      return syncUnknown;
    }
    this.hits++;
    return held.value;
  }

  /** Reads tag keys through the tracked connection and keeps what no invalidation tripped meanwhile. */
  async read(keys: string[]): Promise<Array<string | undefined>> {
    this.reads += keys.length;
    const tickets = keys.map((key) => this.start(key));
    try {
      const reads = await this.tracked.readMany(keys);
      const now = performance.now();
      return reads.map((read, index) => {
        const key = keys[index] as string;
        const value = typeof read.value === 'string' ? read.value : undefined;
        if (this.finish(key, tickets[index] as { valid: boolean }) && this.tracked.up) {
          this.keep(key, {
            value,
            until: read.ttlMs === undefined ? Number.POSITIVE_INFINITY : now + read.ttlMs,
          });
        }
        return value;
      });
    } catch (error) {
      keys.forEach((key, index) => {
        this.finish(key, tickets[index] as { valid: boolean });
      });
      throw error;
    }
  }

  /** True when `read` can serve these keys: all tag keys, tracking on. */
  covers(keys: string[]): boolean {
    return this.tracked.up && keys.length > 0 && keys.every((key) => TrackedTagTokens.isTagKey(key));
  }

  /** Drops kept tokens and trips reads in flight (an invalidation, or a write through this store). */
  forget(keys: Iterable<string>): void {
    for (const key of keys) {
      this.held.delete(key);
      for (const ticket of this.pending.get(key) ?? []) ticket.valid = false;
    }
  }

  close(): Promise<void> {
    this.forgetAll();
    return this.tracked.close();
  }

  private forgetAll(): void {
    this.held.clear();
    for (const tickets of this.pending.values()) for (const ticket of tickets) ticket.valid = false;
  }

  private keep(key: string, held: Held): void {
    this.held.delete(key);
    this.held.set(key, held);
    // Bounded: the oldest kept token goes (Redis may still invalidate it: a push for nothing).
    if (this.held.size > MAX_TOKENS) this.held.delete(this.held.keys().next().value as string);
  }

  private start(key: string): { valid: boolean } {
    const ticket = { valid: true };
    let tickets = this.pending.get(key);
    if (tickets === undefined) {
      tickets = new Set();
      this.pending.set(key, tickets);
    }
    tickets.add(ticket);
    return ticket;
  }

  private finish(key: string, ticket: { valid: boolean }): boolean {
    const tickets = this.pending.get(key);
    tickets?.delete(ticket);
    if (tickets?.size === 0) this.pending.delete(key);
    return ticket.valid;
  }
}
