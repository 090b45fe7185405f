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
import type { Fetcher, FlightOutcome } from './types.js';

/**
 * The get-or-set flow for one key: a synchronous hit when the store allows it, otherwise one
 * shared flight per key that reads the store and, on a miss, runs the fetcher once for every
 * concurrent caller (and, with store leases, for every process). Invalidations reach the flight
 * through the coalescer (no stale writes).
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
  const joined = running.promise as Promise<FlightOutcome>;
  return traceFlight(
    'coalesced',
    () => flightMessage(context, scope, running),
    () => joined,
  ).then((outcome) => {
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
  try {
    // `known` is what the caller's synchronous read found; without one, only the store can tell.
    const outcome = known ?? (await context.entries.readFromStore(flight.key, scope));
    if (outcome.kind === 'fresh') return { source: 'cache', value: outcome.value };
    recordReadProblem(context, scope, flight.key, outcome);
    const stale =
      outcome.kind === 'stale' ? { value: outcome.value, createdAt: outcome.createdAt } : undefined;
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
    context.coalescer.finish(flight);
  }
}
