import type { Cache } from '@org/cache-core';

/**
 * A load of concurrent callers that also checks that acknowledged invalidations stick. Each
 * worker owns one key and one tag and runs its calls one after another against a "source" whose
 * version only grows: `getOrSet` (fetching the current version), `get`, `set` of the current
 * version, and "bump the source, then `invalidateTags`". Every call is timed; every read and
 * every acknowledged invalidation is recorded with its times, so a run can be judged afterwards
 * against any window (see {@link staleReads}): a read that started after an invalidation was
 * acknowledged and returned a version older than that invalidation means the invalidation was
 * undone.
 */

export interface TimedCall {
  readonly worker: number;
  readonly operation: 'getOrSet' | 'get' | 'set' | 'invalidateTags';
  readonly startedAt: number;
  readonly settledAt: number;
  readonly error?: unknown;
}

export interface Read extends TimedCall {
  /** The version returned; `undefined` for a miss. */
  readonly version: number | undefined;
}

export interface Invalidation extends TimedCall {
  /** The source version this invalidation made current: reads after it must not see an older one. */
  readonly version: number;
}

export interface LoadRecord {
  readonly calls: TimedCall[];
  readonly reads: Read[];
  /** Invalidations that resolved (acknowledged by Redis). */
  readonly invalidations: Invalidation[];
  /** getOrSet answers that were not the worker's value shape (must never happen). */
  readonly wrongShapes: unknown[];
}

export interface InvalidationLoadOptions {
  workers: number;
  /** Keeps running until this resolves. */
  until: Promise<unknown>;
  /** Key and tag prefix, e.g. `load`. */
  name?: string;
}

/** Runs the load; resolves once every worker's last call has settled. */
export async function runInvalidationLoad(
  cache: Cache,
  options: InvalidationLoadOptions,
): Promise<LoadRecord> {
  const { workers, until, name = 'load' } = options;
  let stopped = false;
  void until.then(() => {
    stopped = true;
  });
  const record: LoadRecord = { calls: [], reads: [], invalidations: [], wrongShapes: [] };
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      const key = `${name}:w${worker}`;
      const tags = [`${name}-w${worker}`];
      let source = 0;
      for (let iteration = worker; !stopped; iteration++) {
        const startedAt = performance.now();
        const step = iteration % 4;
        try {
          if (step === 0) {
            const value = await cache.getOrSet(key, () => ({ version: source }), { tags });
            const version = (value as { version?: unknown } | undefined)?.version;
            if (typeof version !== 'number') record.wrongShapes.push(value);
            record.reads.push(timed(worker, 'getOrSet', startedAt, { version: version as number }));
          } else if (step === 1) {
            const value = await cache.get<{ version: number }>(key);
            record.reads.push(timed(worker, 'get', startedAt, { version: value?.version }));
          } else if (step === 2) {
            source++;
            await cache.invalidateTags(tags);
            record.invalidations.push(timed(worker, 'invalidateTags', startedAt, { version: source }));
          } else {
            await cache.set(key, { version: source }, { tags });
            record.calls.push(timed(worker, 'set', startedAt, {}));
          }
        } catch (error) {
          const operation = (['getOrSet', 'get', 'invalidateTags', 'set'] as const)[step] ?? 'get';
          record.calls.push(timed(worker, operation, startedAt, { error }));
        }
        // A turn for timers between calls, as a server handling requests would give.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  // A loop, not push(...reads): spreading ~100k arguments overflows the stack on a fast machine.
  for (const call of record.reads) record.calls.push(call);
  for (const call of record.invalidations) record.calls.push(call);
  return record;
}

function timed<T extends object>(
  worker: number,
  operation: TimedCall['operation'],
  startedAt: number,
  extra: T,
): TimedCall & T {
  return { worker, operation, startedAt, settledAt: performance.now(), ...extra };
}

export interface StaleRead {
  readonly read: Read;
  /** The acknowledged invalidation the read should have seen. */
  readonly undone: Invalidation;
}

/**
 * Reads that returned a version older than an invalidation of the same worker that was
 * acknowledged before the read started, considering only the invalidations `counts(invalidation)`
 * selects (e.g. those acknowledged before a failover began).
 */
export function staleReads(record: LoadRecord, counts: (invalidation: Invalidation) => boolean): StaleRead[] {
  // Per worker, the counted invalidations in the order they were acknowledged (a worker's calls
  // run one after another, so its versions grow with it): a read is judged against the last one
  // acknowledged before it started, found by binary search (runs have ~100k reads).
  const byWorker = new Map<number, Invalidation[]>();
  for (const invalidation of record.invalidations) {
    if (!counts(invalidation)) continue;
    const list = byWorker.get(invalidation.worker) ?? [];
    list.push(invalidation);
    byWorker.set(invalidation.worker, list);
  }
  for (const list of byWorker.values()) list.sort((a, b) => a.settledAt - b.settledAt);
  const stale: StaleRead[] = [];
  for (const read of record.reads) {
    if (read.version === undefined) continue;
    const list = byWorker.get(read.worker);
    if (list === undefined) continue;
    let low = 0;
    let high = list.length; // first index acknowledged at or after the read started
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((list[middle] as Invalidation).settledAt < read.startedAt) low = middle + 1;
      else high = middle;
    }
    const newest = list[low - 1];
    if (newest !== undefined && read.version < newest.version) stale.push({ read, undone: newest });
  }
  return stale;
}

/** The worst time a call took to settle, and how many calls there were. */
export function worstLatency(record: LoadRecord): { worst: number; calls: number } {
  let worst = 0;
  for (const call of record.calls) worst = Math.max(worst, call.settledAt - call.startedAt);
  return { worst, calls: record.calls.length };
}
