import type { DashboardState } from './dashboard-state.js';

/** One second between samples, as the page polls. */
export const SAMPLE_INTERVAL_MS = 1_000;
/** The page draws five minutes, and a hit ratio over the 30 s before each point: keep both. */
export const HISTORY_SPAN_MS = 5 * 60_000 + 30_000;

/** The counters the page's charts are drawn from, at one instant (the page's own sample shape). */
export interface HistorySample {
  /** Epoch ms. */
  t: number;
  /** Change events handled, whatever their outcome. */
  events: number;
  calls: number;
  saved: number;
  /** Per bucket: hits, lookups, and lookups that never reached the upstream. */
  buckets: Record<string, { hits: number; lookups: number; served: number }>;
}

const CHANGE_EVENT_OUTCOMES = ['processed', 'ignored', 'skipped', 'duplicates', 'failed', 'invalid'] as const;

/** The sample of one dashboard state. */
export function sampleOf(state: DashboardState): HistorySample {
  const sources = Object.values(state.upstream);
  const counters = state.health.subscriber.counters;
  return {
    t: Date.parse(state.timestamp),
    events: CHANGE_EVENT_OUTCOMES.reduce((total, outcome) => total + counters[outcome], 0),
    calls: sources.reduce((total, source) => total + source.calls, 0),
    saved: sources.reduce((total, source) => total + source.saved, 0),
    buckets: Object.fromEntries(
      Object.entries(state.buckets).map(([id, bucket]) => {
        const lookups = bucket.hits + bucket.misses;
        const served = Math.min(lookups, bucket.hits + bucket.coalescedWaits + bucket.staleHits);
        return [id, { hits: bucket.hits, lookups, served }];
      }),
    ),
  };
}

/**
 * The last HISTORY_SPAN_MS of samples, in a ring buffer of fixed capacity: a page opened now
 * draws the last minutes at once instead of starting from an empty chart, and a service left
 * running for a month holds no more than one started a minute ago.
 */
export class SampleRing {
  readonly #slots: Array<HistorySample | undefined>;
  #next = 0;
  #size = 0;

  constructor(readonly capacity = Math.ceil(HISTORY_SPAN_MS / SAMPLE_INTERVAL_MS) + 1) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.#slots = new Array(capacity);
  }

  push(sample: HistorySample): void {
    this.#slots[this.#next] = sample;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Oldest first, at most `spanMs` older than the newest. */
  list(spanMs = HISTORY_SPAN_MS): HistorySample[] {
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    const samples: HistorySample[] = [];
    for (let index = 0; index < this.#size; index++)
      samples.push(this.#slots[(start + index) % this.capacity] as HistorySample);
    const newest = samples.at(-1)?.t ?? 0;
    return samples.filter((sample) => sample.t >= newest - spanMs);
  }
}
