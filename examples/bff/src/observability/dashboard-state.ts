import type { InvalidatorCounters, InvalidatorHealth } from '@org/cache-cdc';
import type { CacheHealth, HealthStatus } from '@org/cache-core';
import type { RecentInvalidation } from '../cdc/recent-invalidations.js';
import type { StoreKind } from '../store/choose-store.js';
import type { UpstreamUsage } from '../upstream/usage.js';
import type { BucketReport } from './bucket-stats.js';

/** GET /api/dashboard: what the dashboard page polls. The page is coded against this shape. */
export interface DashboardState {
  timestamp: string;
  store: { name: string; kind: StoreKind };
  health: {
    status: HealthStatus;
    store: { status: HealthStatus; latencyMs: number; reason?: string };
    subscriber: {
      status: HealthStatus;
      reason?: string;
      lastEventAt?: string;
      lagMs?: number;
      counters: Pick<
        InvalidatorCounters,
        | 'processed'
        | 'ignored'
        | 'skipped'
        | 'duplicates'
        | 'failed'
        | 'invalid'
        | 'gaps'
        | 'overflows'
        | 'keysInvalidated'
        | 'tagsInvalidated'
      >;
    };
  };
  buckets: Record<string, DashboardBucket>;
  upstream: { salesforce: UpstreamReport; whmcs: UpstreamReport };
  invalidations: { total: number; recent: RecentInvalidation[] };
}

export interface DashboardBucket {
  hits: number;
  misses: number;
  staleHits: number;
  coalescedWaits: number;
  fetches: number;
  fetchErrors: number;
  invalidations: number;
  /** hits / lookups (lookups = hits + misses); null until the bucket was read at all. */
  hitRatio: number | null;
  /**
   * The share of lookups that never reached the upstream: hits, waits on another caller's fetch
   * (coalesced) and stale values served, over lookups. A coalesced wait and a stale serve are
   * counted as misses by `hitRatio`, though the upstream never saw them. null until read.
   */
  servedWithoutUpstream: number | null;
  /** The bucket's fetches (calls to the upstream) as the SDK measured them, in ms. */
  fetchLatency: { count: number; p50Ms: number; p99Ms: number };
  /** Entries of the bucket in the store, as last counted (every few seconds); null when unknown. */
  entries: number | null;
}

export type UpstreamReport = ReturnType<UpstreamUsage['snapshot']>;

export interface DashboardInputs {
  store: { name: string; kind: StoreKind };
  health: CacheHealth;
  subscriber: InvalidatorHealth;
  buckets: readonly BucketReport[];
  salesforce: UpstreamUsage;
  whmcs: UpstreamUsage;
  totalInvalidations: number;
  recent: RecentInvalidation[];
  /** Entries per bucket id (`orders:summaries`), from the last count. */
  entries: ReadonlyMap<string, number>;
}

export function dashboardState(inputs: DashboardInputs): DashboardState {
  const { health, subscriber } = inputs;
  const buckets: Record<string, DashboardBucket> = {};
  for (const { domain, bucket, stats } of inputs.buckets) {
    const reads = stats.hits + stats.misses;
    const id = `${domain}:${bucket}`;
    buckets[id] = {
      hits: stats.hits,
      misses: stats.misses,
      staleHits: stats.staleHits,
      coalescedWaits: stats.coalesced,
      fetches: stats.fetches,
      fetchErrors: stats.fetchErrors,
      invalidations: stats.invalidations,
      hitRatio: reads === 0 ? null : ratio(stats.hits, reads),
      servedWithoutUpstream:
        reads === 0 ? null : ratio(Math.min(reads, stats.hits + stats.coalesced + stats.staleHits), reads),
      fetchLatency: {
        count: stats.fetchLatency.count,
        p50Ms: stats.fetchLatency.p50Ms,
        p99Ms: stats.fetchLatency.p99Ms,
      },
      entries: inputs.entries.get(id) ?? null,
    };
  }
  const counters = subscriber.counters;
  return {
    timestamp: new Date().toISOString(),
    store: inputs.store,
    health: {
      status: health.status,
      store: {
        status: health.store.status,
        latencyMs: health.store.latencyMs,
        ...(health.store.reason === undefined ? {} : { reason: health.store.reason }),
      },
      subscriber: {
        status: subscriber.status,
        ...(subscriber.reason === undefined ? {} : { reason: subscriber.reason }),
        ...(subscriber.lastEventAt === undefined ? {} : { lastEventAt: subscriber.lastEventAt }),
        ...(subscriber.lagMs === undefined ? {} : { lagMs: subscriber.lagMs }),
        counters: {
          processed: counters.processed,
          ignored: counters.ignored,
          skipped: counters.skipped,
          duplicates: counters.duplicates,
          failed: counters.failed,
          invalid: counters.invalid,
          gaps: counters.gaps,
          overflows: counters.overflows,
          keysInvalidated: counters.keysInvalidated,
          tagsInvalidated: counters.tagsInvalidated,
        },
      },
    },
    buckets,
    upstream: { salesforce: inputs.salesforce.snapshot(), whmcs: inputs.whmcs.snapshot() },
    invalidations: { total: inputs.totalInvalidations, recent: inputs.recent },
  };
}

function ratio(part: number, whole: number): number {
  return Math.round((part / whole) * 10_000) / 10_000;
}
