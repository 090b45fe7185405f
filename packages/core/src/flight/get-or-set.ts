import type { Scope } from '../config/scope.js';
import type { TagsOption, WriteRequest } from '../config/write-request.js';
import type { ReadOutcome } from '../entry/entries.js';
import { traceFlight } from '../observe/events.js';
import type { Flight, FlightTags } from './coalescer.js';
import type { CacheContext } from './context.js';
import { decideFetcher } from './cross-process.js';
import { fetchAndStore } from './fetch-and-store.js';
import type { FetchJob } from './fetch-job.js';
import { flightMessage, recordHit, recordMiss, recordReadProblem, recordStaleHit } from './record.js';
import { refreshIfDue } from './refresh.js';
import { armSoftTimeout } from './soft-timeout.js';
import type { Fetcher, FlightOutcome, StaleEntry } from './types.js';

/**
 * The get-or-set flow for one key: a synchronous hit when the store allows it, otherwise one
 * shared flight per key that reads the store and, on a miss, runs the fetcher once for every
 * concurrent caller (and, with store leases, for every process). Invalidations reach the flight
 * through the coalescer (no stale writes). A hit past the eager-refresh point also starts a
 * background refresh (refresh.ts); a stale value can answer callers at the soft timeout
 * (soft-timeout.ts).
 */
export function getOrSet<T>(
  context: CacheContext,
  key: string,
  fetcher: Fetcher<T>,
  scope: Scope,
  request: WriteRequest,
): Promise<T> {
  const fast = context.entries.readSync(key, scope);
  if (fast !== undefined && fast.kind === 'fresh') {
    recordHit(context, scope, key);
    if (request.eagerRefresh !== 0) {
      refreshIfDue(context, key, fetcher, scope, request, fast, flightTagsOf(request.tags));
    }
    return Promise.resolve(fast.value as T);
  }
  const shared = flightOutcome(context, key, fetcher, scope, request, fast);
  // Every caller is counted once: a hit when the flight found the entry, a miss otherwise
  // (fetched here or by another process, stale, or failed), so hits + misses = calls.
  return shared.then(
    (outcome) => {
      if (outcome.source === 'cache') {
        recordHit(context, scope, key);
      } else {
        recordMiss(context, scope, key);
        if (outcome.source === 'stale') recordStaleHit(context, scope, key, outcome.error);
      }
      return outcome.value as T;
    },
    (error: unknown) => {
      recordMiss(context, scope, key);
      throw error;
    },
  );
}

/**
 * What the key's flight answers this caller: the flight it joins, or one it starts. A joiner that
 * came after an invalidation of a tag the value turned out to depend on (a tag the fetcher added
 * with ctx.setTags, or derived) asks again: that value predates the invalidation it saw.
 */
function flightOutcome<T>(
  context: CacheContext,
  key: string,
  fetcher: Fetcher<T>,
  scope: Scope,
  request: WriteRequest,
  fast: ReadOutcome | undefined,
): Promise<FlightOutcome> {
  const running = context.coalescer.find(key);
  if (running?.promise === undefined) {
    const flight = context.coalescer.start(key, flightTagsOf(request.tags));
    const shared = flight.run(runFlight(context, flight, fetcher, scope, request, fast));
    flight.promise = shared;
    return shared;
  }
  running.waiters++;
  scope.metrics.coalesced++;
  const joinedAt = context.coalescer.epoch;
  const joined = running.joinAt(context.clock.now()) as Promise<FlightOutcome>;
  // The flight answered early with a stale value now past its grace: this caller waits for the fetch.
  const joinedLate = joined !== running.promise;
  return traceFlight(
    'coalesced',
    () => flightMessage(context, scope, running),
    () => joined,
  ).then((outcome) => {
    // Past its grace for a late joiner: the failure the stale value stood in for is its answer.
    if (joinedLate && outcome.source === 'stale') throw outcome.error;
    if (outcome.lateTags === undefined || !running.invalidatedBy(outcome.lateTags, joinedAt)) return outcome;
    context.assertOpen(); // a closed cache starts no fetch
    return flightOutcome(context, key, fetcher, scope, request, undefined);
  });
}

export function flightTagsOf(tags: TagsOption<unknown> | undefined): FlightTags {
  if (tags === undefined) return { mode: 'none' };
  if (typeof tags === 'function') return { mode: 'derived' };
  return tags.length === 0 ? { mode: 'none' } : { mode: 'static', tags };
}

async function runFlight(
  context: CacheContext,
  flight: Flight,
  fetcher: Fetcher<unknown>,
  scope: Scope,
  request: WriteRequest,
  known: ReadOutcome | undefined,
): Promise<FlightOutcome> {
  let disarm: (() => void) | undefined;
  try {
    // `known` is what the caller's synchronous read found; without one, only the store can tell.
    const outcome = known ?? (await context.entries.readFromStore(flight.key, scope));
    if (outcome.kind === 'fresh') {
      if (request.eagerRefresh !== 0) {
        refreshIfDue(context, flight.key, fetcher, scope, request, outcome, flight.tags);
      }
      return { source: 'cache', value: outcome.value };
    }
    recordReadProblem(context, scope, flight.key, outcome);
    const stale: StaleEntry | undefined =
      outcome.kind === 'stale'
        ? { value: outcome.value, createdAt: outcome.createdAt, livesUntil: outcome.livesUntil }
        : undefined;
    if (stale !== undefined && request.softTimeoutMs > 0) {
      disarm = armSoftTimeout(context, scope, flight, stale, request.softTimeoutMs);
    }
    // The entry ran out while this process was refreshing it: that refresh is this miss's fetch.
    const refreshed = await context.coalescer.findRefresh(flight.key)?.promise;
    if (refreshed !== undefined) {
      scope.metrics.coalesced++;
      return refreshed as FlightOutcome;
    }
    const job: FetchJob = { context, flight, fetcher, scope, request, stale };
    if (context.lease === undefined || outcome.kind === 'error') {
      return await fetchAndStore(job, { kind: 'plain' });
    }
    const decision = await decideFetcher(context, flight, scope, context.lease);
    if (decision.kind === 'found') {
      scope.metrics.coalesced++;
      return { source: 'remote', value: (decision.outcome as { value: unknown }).value };
    }
    return await fetchAndStore(job, decision.plan);
  } finally {
    disarm?.();
    context.coalescer.finish(flight);
  }
}
