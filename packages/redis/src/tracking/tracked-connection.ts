import type { RedisClientType } from '@keyv/redis';
import { CacheError, type Duration } from '@org/cache-core';
import { parseTimeout } from '@org/cache-core/adapter';
import type { RedisConnection } from '../connection.js';
import { TrackedCluster } from './tracked-cluster.js';
import {
  emptyTrackingStats,
  TrackedNode,
  type TrackedRead,
  type TrackingListener,
  type TrackingStats,
  trackingClientOptions,
} from './tracked-node.js';

export type { TrackedRead, TrackingListener, TrackingStats } from './tracked-node.js';

export interface TrackedConnectionOptions {
  /** The connection dropped silently (half-open TCP) if a PING goes unanswered this long. Default 2 s. */
  stallTimeout?: Duration;
  /** How often a PING checks the connection (each master's, on a cluster). Default 500 ms. */
  heartbeat?: Duration;
  /**
   * Cluster only: how often every master is asked for its slot map (CLUSTER SLOTS on its tracked
   * connection), to notice a resharding or a failover that no read has run into yet. Default 1 s.
   */
  topologyCheck?: Duration;
}

/**
 * Reads that Redis tracks, and what Redis says about them, through dedicated RESP3 connections
 * with client tracking (see `TrackedNode` for why the reads must go through the tracking
 * connection itself): one connection to a standalone server, one per master on a cluster (see
 * `TrackedCluster`). Opened by `redisStore().openTracking()` and by `trackTagTokens`.
 */
export interface TrackedConnection {
  readonly stats: TrackingStats;
  /** Tracking is on (on a cluster: on every master of the current slot map): what is read now will be invalidated. */
  readonly up: boolean;
  /** The error that stopped tracking for good, if any. */
  readonly refused: CacheError | undefined;
  /** Resolves once tracking is first on; rejects with `E_INVALID_OPTION` when Redis refuses it. */
  ready(): Promise<void>;
  /** GET and PTTL of one key, tracked. */
  read(key: string): Promise<TrackedRead>;
  /** Values and PTTLs of several keys, tracked, in the order given. */
  readMany(keys: string[]): Promise<TrackedRead[]>;
  /** Stops tracking and closes the dedicated connections (the store's own stay open). Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens tracking on the server(s) of `source`. A Sentinel connection is refused (E_UNSUPPORTED):
 * after a failover the old master, demoted to a replica, keeps answering reads on the connection
 * already open to it, with no MOVED to reveal it, while writes go to the new master; following the
 * master safely needs a role check on the tracked connection before every return to `up`, which
 * the Sentinel path does not have yet.
 */
export function openTrackedConnection(
  source: RedisConnection,
  listener: TrackingListener,
  options: TrackedConnectionOptions = {},
): TrackedConnection {
  const timing = {
    stallMs: parseTimeout(options.stallTimeout ?? '2s', 'stallTimeout'),
    heartbeatMs: parseTimeout(options.heartbeat ?? '500ms', 'heartbeat'),
  };
  const topologyCheckMs = parseTimeout(options.topologyCheck ?? '1s', 'topologyCheck');
  switch (source.mode) {
    case 'cluster':
      return new TrackedCluster(source, listener, { ...timing, topologyCheckMs });
    case 'sentinel':
      throw new CacheError(
        'E_UNSUPPORTED',
        "redis tracking: a Sentinel connection is not supported: after a failover the demoted master keeps answering reads on the tracked connection while writes go to the new one, and nothing here checks the master's role yet; use coherence: 'bus' (or tracking with a url/cluster)",
      );
    default: {
      const stats = emptyTrackingStats();
      return new TrackedNode(
        () => {
          const base = source.client as RedisClientType;
          return base.duplicate(trackingClientOptions(base.options)) as unknown as RedisClientType;
        },
        listener,
        timing,
        stats,
      );
    }
  }
}
