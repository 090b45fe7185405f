import type { Scope } from '../config/scope.js';
import type { WriteRequest } from '../config/write-request.js';
import type { FreshOutcome } from '../entry/entries.js';
import { publish } from '../observe/events.js';
import type { Flight, FlightTags } from './coalescer.js';
import type { CacheContext } from './context.js';
import { releaseLease, tryLease } from './cross-process.js';
import { fetchAndStore } from './fetch-and-store.js';
import { eventOf } from './record.js';
import type { Fetcher, FlightOutcome, WritePlan } from './types.js';

/** After a failed refresh, how long this process serves the entry before it tries again. */
export const REFRESH_RETRY_MS = 1_000;

/**
 * True once `now` is past `fraction` of the entry's fresh window (an entry fresh until
 * invalidated has no such point). Computed from the entry itself, so a jittered lifetime moves
 * its refresh point with it.
 */
export function isRefreshDue(entry: FreshOutcome, fraction: number, now: number): boolean {
  const { createdAt, freshUntil } = entry;
  return freshUntil !== null && now >= createdAt + (freshUntil - createdAt) * fraction;
}

/**
 * Eager refresh, called on a `getOrSet` hit when the call has `eagerRefresh`: past the refresh
 * point, starts one background refresh of the key, unless one is running in this process or a
 * failed one holds it off. The caller is answered from the cache and never waits for it.
 */
export function refreshIfDue(
  context: CacheContext,
  key: string,
  fetcher: Fetcher<unknown>,
  scope: Scope,
  request: WriteRequest,
  entry: FreshOutcome,
  tags: FlightTags,
): void {
  const now = context.clock.now();
  if (!isRefreshDue(entry, request.eagerRefresh, now)) return;
  const coalescer = context.coalescer;
  if (coalescer.findRefresh(key) !== undefined || !coalescer.mayRetryRefresh(key, now)) return;
  const flight = coalescer.startRefresh(key, tags);
  flight.promise = runRefresh(context, flight, fetcher, scope, request, entry);
}

/**
 * One background refresh. On a store with leases the lease is the refresh lock: a process that
 * cannot take it leaves the refresh to its holder and keeps serving the entry (its refresh slot
 * stays taken until the holder is done, so its hits do not ask the store again meanwhile); one
 * that takes it reads the entry again first, since the lease is also free just after another
 * process finished refreshing. The fetch and write are a flight's (no stale writes, the lease
 * commit); a failure keeps the entry. Resolves to the outcome for callers that missed meanwhile
 * and joined it, or `undefined` when it fetched nothing; never rejects.
 */
async function runRefresh(
  context: CacheContext,
  flight: Flight,
  fetcher: Fetcher<unknown>,
  scope: Scope,
  request: WriteRequest,
  entry: FreshOutcome,
): Promise<FlightOutcome | undefined> {
  const started = performance.now();
  try {
    let plan: WritePlan = { kind: 'plain' };
    if (context.lease !== undefined) {
      const taken = await tryLease(context, flight, context.lease);
      if (taken === undefined) {
        // Bounded by the lease's wait; a store that fails here just ends the wait early.
        await context.store.leases
          ?.waitForRelease(flight.key, context.lease.waitMs, flight.waitSignal)
          .catch(() => {});
        return undefined;
      }
      plan = taken;
      if (plan.kind === 'lease' && (await refreshedElsewhere(context, scope, flight.key, request))) {
        await releaseLease(context, flight, plan);
        return undefined;
      }
    }
    // The current value is the fetcher's stale context: what a conditional request needs.
    const stale = { value: entry.value, createdAt: entry.createdAt, livesUntil: entry.freshUntil };
    const outcome = await fetchAndStore({ context, flight, fetcher, scope, request, stale }, plan);
    // fetchAndStore answers a failed fetch with the stale value it was given.
    if (outcome.source === 'stale') return refreshFailed(context, scope, flight, started, outcome.error);
    recordRefresh(context, scope, flight.key, started, false, undefined);
    return outcome;
  } catch (error) {
    return refreshFailed(context, scope, flight, started, error);
  } finally {
    context.coalescer.finish(flight);
  }
}

/** True when the entry is no longer due: another process refreshed it before this one got the lease. */
async function refreshedElsewhere(
  context: CacheContext,
  scope: Scope,
  key: string,
  request: WriteRequest,
): Promise<boolean> {
  const current = await context.entries.read(key, scope);
  return current.kind === 'fresh' && !isRefreshDue(current, request.eagerRefresh, context.clock.now());
}

function refreshFailed(
  context: CacheContext,
  scope: Scope,
  flight: Flight,
  started: number,
  error: unknown,
): undefined {
  context.coalescer.holdOffRefresh(flight.key, context.clock.now() + REFRESH_RETRY_MS);
  recordRefresh(context, scope, flight.key, started, true, error);
  return undefined;
}

function recordRefresh(
  context: CacheContext,
  scope: Scope,
  key: string,
  started: number,
  failed: boolean,
  error: unknown,
): void {
  scope.metrics.refreshes++;
  if (failed) scope.metrics.refreshErrors++;
  publish('refresh', () => ({
    ...eventOf(context, scope, key),
    durationMs: performance.now() - started,
    ...(failed ? { error } : {}),
  }));
}
