// The last few minutes of polled counters, and the rates and windowed ratios derived from them.
// Bounded: one sample per poll, the oldest dropped past MAX_SAMPLES, so a tab left open for a day
// holds no more than a tab opened a minute ago.

export const SPAN_MS = 5 * 60_000;
export const RATIO_WINDOW_MS = 30_000;
/** Columns per rate chart, whatever the span. */
export const BIN_COUNT = 30;
const MAX_SAMPLES = 400;

/**
 * Every read of a bucket is counted once, as a hit or a miss (a stale value served, or a wait on
 * another caller's fetch, is a miss), so the service's hitRatio is hits / (hits + misses).
 */
export function lookupsOf(bucket) {
  return bucket.hits + bucket.misses;
}

/**
 * Lookups that never reached the upstream: hits, waits on another caller's fetch and stale
 * values served. The headline's numerator: a coalesced wait is a miss, yet cost the upstream nothing.
 */
export function servedOf(bucket) {
  return Math.min(lookupsOf(bucket), bucket.hits + (bucket.coalescedWaits ?? 0) + (bucket.staleHits ?? 0));
}

/** Change events the subscriber handled, whatever became of each (one outcome counter per event). */
export function changeEventsOf(snapshot) {
  const counters = snapshot.health.subscriber.counters ?? {};
  return ['processed', 'ignored', 'skipped', 'duplicates', 'failed', 'invalid'].reduce(
    (total, name) => total + (counters[name] ?? 0),
    0,
  );
}

export class History {
  #samples = [];

  /** Records one /api/dashboard answer. A counter going backwards means the service restarted. */
  add(snapshot, t) {
    const sources = Object.values(snapshot.upstream);
    const sample = {
      t,
      events: changeEventsOf(snapshot),
      calls: sources.reduce((total, source) => total + source.calls, 0),
      saved: sources.reduce((total, source) => total + source.saved, 0),
      buckets: Object.fromEntries(
        Object.entries(snapshot.buckets).map(([id, bucket]) => [
          id,
          { hits: bucket.hits, lookups: lookupsOf(bucket), served: servedOf(bucket) },
        ]),
      ),
    };
    this.#push(sample);
  }

  /**
   * Starts from the service's own recent samples (GET /api/dashboard/history, the same shape),
   * so the charts draw the last minutes as soon as the page opens. Malformed samples are skipped.
   */
  seed(samples) {
    if (!Array.isArray(samples)) return;
    for (const sample of samples) if (isSample(sample)) this.#push(sample);
  }

  #push(sample) {
    const { t } = sample;
    const previous = this.#samples.at(-1);
    if (previous && (t <= previous.t || restarted(previous, sample))) this.#samples.length = 0;
    this.#samples.push(sample);
    while (this.#samples.length > MAX_SAMPLES || this.#samples[0].t < t - SPAN_MS - RATIO_WINDOW_MS) {
      this.#samples.shift();
    }
  }

  get size() {
    return this.#samples.length;
  }

  /**
   * The time axis, up to the newest sample: as long as the page has been open, in whole minutes,
   * from one minute up to SPAN_MS, so a freshly opened page is not a sliver at the right edge.
   */
  domain(now) {
    const end = this.#samples.at(-1)?.t ?? now;
    const elapsed = end - (this.#samples[0]?.t ?? now);
    const span = Math.min(SPAN_MS, Math.max(60_000, Math.ceil(elapsed / 60_000) * 60_000));
    return [end - span, end];
  }

  /**
   * The hit ratio over the RATIO_WINDOW_MS before each sample, overall and per bucket, and the
   * overall share that never reached the upstream (the headline's measure); null where nothing
   * was looked up in the window (an honest gap rather than a made-up flat line).
   */
  hitRatioSeries() {
    const overall = [];
    const served = [];
    const perBucket = new Map();
    let start = 0;
    this.#samples.forEach((sample, index) => {
      while (this.#samples[start].t < sample.t - RATIO_WINDOW_MS) start += 1;
      const base = start === index ? null : this.#samples[start];
      let hits = 0;
      let lookups = 0;
      let reachedNoUpstream = 0;
      for (const [id, now] of Object.entries(sample.buckets)) {
        const before = base?.buckets[id] ?? now;
        const delta = { hits: now.hits - before.hits, lookups: now.lookups - before.lookups };
        hits += delta.hits;
        lookups += delta.lookups;
        // Samples from before this field existed (none today) count as hits only.
        reachedNoUpstream += (now.served ?? now.hits) - (before.served ?? before.hits);
        if (!perBucket.has(id)) perBucket.set(id, []);
        perBucket.get(id).push({ t: sample.t, value: ratio(delta.hits, delta.lookups) });
      }
      overall.push({ t: sample.t, value: ratio(hits, lookups) });
      served.push({ t: sample.t, value: ratio(reachedNoUpstream, lookups) });
    });
    return { overall, served, perBucket };
  }

  /**
   * BIN_COUNT columns over the time axis, each with how much every picked counter grew in it:
   * `[{ t0, t1, values: [growth of picks[0], ...] }]`, oldest first.
   */
  bins(now, picks) {
    const [from, to] = this.domain(now);
    const width = (to - from) / BIN_COUNT;
    const end = Math.ceil(to / width) * width;
    const start = end - BIN_COUNT * width;
    const bins = Array.from({ length: BIN_COUNT }, (_, index) => ({
      t0: start + index * width,
      t1: start + (index + 1) * width,
      values: picks.map(() => 0),
    }));
    for (let index = 1; index < this.#samples.length; index += 1) {
      const [before, sample] = [this.#samples[index - 1], this.#samples[index]];
      const bin = bins[Math.floor((sample.t - start) / width)];
      if (!bin || sample.t < from) continue;
      picks.forEach((pick, position) => {
        bin.values[position] += pick(sample) - pick(before);
      });
    }
    return bins;
  }
}

function isSample(sample) {
  return (
    typeof sample === 'object' &&
    sample !== null &&
    [sample.t, sample.events, sample.calls, sample.saved].every(Number.isFinite) &&
    typeof sample.buckets === 'object' &&
    sample.buckets !== null
  );
}

function ratio(hits, lookups) {
  return lookups > 0 ? hits / lookups : null;
}

function restarted(previous, sample) {
  if (sample.events < previous.events || sample.calls < previous.calls) return true;
  return Object.entries(sample.buckets).some(
    ([id, bucket]) => bucket.lookups < (previous.buckets[id]?.lookups ?? 0),
  );
}
