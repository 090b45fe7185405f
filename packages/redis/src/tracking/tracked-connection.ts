import type { RedisClientType } from '@keyv/redis';
import type { CacheError, Duration } from '@org/cache-core';
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
import { TrackedSentinel } from './tracked-sentinel.js';

export type { TrackedRead, TrackingListener, TrackingStats } from './tracked-node.js';

export interface TrackedConnectionOptions {
  /** The connection dropped silently (half-open TCP) if a PING goes unanswered this long. Default 2 s. */
  stallTimeout?: Duration;
  /** How often a PING checks the connection (each master's, on a cluster). Default 500 ms. */
  heartbeat?: Duration;
  /**
   * Cluster and Sentinel: how often the topology is checked on the tracked connection(s), to
   * notice a resharding or a failover that nothing else has reported yet: every master's slot map
   * (CLUSTER SLOTS) on a cluster, the tracked master's ROLE behind Sentinel. Default 1 s.
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
 * Opens tracking on the server(s) of `source`: the server itself, every master of a cluster
 * (`TrackedCluster`), or the master behind Sentinel, followed across failovers
 * (`TrackedSentinel`). A borrowed Sentinel client (`redisStore({ client })`) is refused with
 * E_INVALID_OPTION: node-redis does not expose the options (credentials, TLS) its connections to
 * the master were made with.
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
      return new TrackedSentinel(source, listener, { ...timing, topologyCheckMs });
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
