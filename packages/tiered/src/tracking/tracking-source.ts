import type { CacheStore } from '@org/cache-core';

/**
 * What `coherence: 'tracking'` needs from L2, structurally (the tiered store does not depend on
 * @org/cache-redis): `redisStore()` has it. The reads that fill L1 go through the tracked
 * connection, so Redis tracks exactly the keys this instance keeps in L1.
 */
export interface TrackedReads {
  readonly up: boolean;
  readonly refused: Error | undefined;
  readonly stats: TrackingStats;
  ready(): Promise<void>;
  read(key: string): Promise<{ value: unknown; ttlMs: number | undefined }>;
  readMany(keys: string[]): Promise<Array<{ value: unknown; ttlMs: number | undefined }>>;
  close(): Promise<void>;
}

/**
 * `stats().tracking` with `coherence: 'tracking'`: the counters of the L2's client-tracking
 * connection (the same shape as `@org/cache-redis`'s `TrackingStats`, declared here because the
 * tiered store does not depend on the redis package).
 */
export interface TrackingStats {
  /** Keys Redis said changed: each dropped from L1. */
  invalidations: number;
  /** `FLUSHALL`/`FLUSHDB` seen: each emptied L1. */
  flushes: number;
  /** Times tracking was lost (drop, kill, restart, stall): L1 is bypassed until it is back. */
  losses: number;
  /** Connections replaced because a PING went unanswered. */
  stalls: number;
  /** Redis Cluster: times the slot map changed under the tracked connections (0 otherwise). */
  topologyChanges: number;
}

export interface TrackingHandlers {
  invalidate(keys: string[]): void;
  flushed(): void;
  state(up: boolean): void;
}

type TrackingSource = CacheStore & {
  openTracking(handlers: TrackingHandlers): TrackedReads;
};

export function canTrack(store: CacheStore): store is TrackingSource {
  return typeof (store as Partial<TrackingSource>).openTracking === 'function';
}
