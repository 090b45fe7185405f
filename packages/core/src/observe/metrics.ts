/** Counters kept per bucket (plain cache calls count under the `default` bucket). */
export interface BucketCounters {
  hits: number;
  misses: number;
  /**
   * Served past freshness, inside the grace window: the fetch failed, the store was down, or the
   * fetch ran past `softTimeout`.
   */
  staleHits: number;
  /** Fetches that ran past their `softTimeout` (callers got the stale value; the fetch went on). */
  softTimeouts: number;
  /** Background refreshes run by `eagerRefresh`, failed ones included. */
  refreshes: number;
  /** Background refreshes that failed (the entry was kept): also counted in `refreshes`. */
  refreshErrors: number;
  /** Callers that joined a fetch already in flight instead of starting their own. */
  coalesced: number;
  fetches: number;
  fetchErrors: number;
  /** Invalidation operations (invalidate, invalidateAll, invalidateTags, events): not keys. */
  invalidations: number;
  storeErrors: number;
  /** Entries that could not be read back (bad bytes, old format, failed schema): counted misses. */
  corruptEntries: number;
  /** Writes abandoned because the store failed: the value was still returned to the caller. */
  droppedWrites: number;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface BucketStats extends BucketCounters {
  /** hits / (hits + misses), 0 when nothing was read. */
  hitRatio: number;
  fetchLatency: LatencySummary;
}

// Upper bounds in ms; percentiles report the bound of the bucket they fall in. Fixed buckets keep
// the histogram O(1) in memory whatever the traffic, and map onto a Prometheus histogram.
export const LATENCY_BOUNDS_MS = [
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1_000,
  2_500,
  5_000,
  10_000,
  30_000,
  Number.POSITIVE_INFINITY,
] as const;

export class LatencyHistogram {
  readonly counts = new Array<number>(LATENCY_BOUNDS_MS.length).fill(0);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  record(ms: number): void {
    let index = 0;
    while (ms > (LATENCY_BOUNDS_MS[index] as number)) index++;
    this.counts[index] = (this.counts[index] as number) + 1;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  percentile(fraction: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(fraction * this.count);
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index] as number;
      if (seen >= rank) return Math.min(LATENCY_BOUNDS_MS[index] as number, this.maxMs);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : round(this.sumMs / this.count),
      p50Ms: round(this.percentile(0.5)),
      p99Ms: round(this.percentile(0.99)),
      maxMs: round(this.maxMs),
    };
  }
}

export class BucketMetrics implements BucketCounters {
  hits = 0;
  misses = 0;
  staleHits = 0;
  softTimeouts = 0;
  refreshes = 0;
  refreshErrors = 0;
  coalesced = 0;
  fetches = 0;
  fetchErrors = 0;
  invalidations = 0;
  storeErrors = 0;
  corruptEntries = 0;
  droppedWrites = 0;
  readonly fetchLatency = new LatencyHistogram();

  constructor(
    readonly domain: string | undefined,
    readonly bucket: string,
  ) {}

  snapshot(): BucketStats {
    return { ...countersOf([this]), fetchLatency: this.fetchLatency.summary() };
  }
}

/** Every counter of `BucketCounters`, once: snapshots and totals are derived from this list. */
export const COUNTER_NAMES = [
  'hits',
  'misses',
  'staleHits',
  'softTimeouts',
  'refreshes',
  'refreshErrors',
  'coalesced',
  'fetches',
  'fetchErrors',
  'invalidations',
  'storeErrors',
  'corruptEntries',
  'droppedWrites',
] as const satisfies ReadonlyArray<keyof BucketCounters>;

/** The counters of one or several buckets summed, with their hit ratio. */
export function countersOf(buckets: Iterable<BucketCounters>): BucketCounters & { hitRatio: number } {
  const sums = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as unknown as BucketCounters;
  for (const bucket of buckets) for (const name of COUNTER_NAMES) sums[name] += bucket[name];
  const reads = sums.hits + sums.misses;
  return { ...sums, hitRatio: reads === 0 ? 0 : round(sums.hits / reads) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
