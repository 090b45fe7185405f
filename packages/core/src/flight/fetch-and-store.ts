import type { Scope } from '../config/scope.js';
import type { WriteRequest } from '../config/write-request.js';
import { normalizeTags } from '../entry/tags.js';
import { CacheError } from '../errors.js';
import { publish, traceFlight } from '../observe/events.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { FetchJob } from './fetch-job.js';
import { eventOf, flightMessage, recordDroppedWrites } from './record.js';
import { runFetcher } from './run-fetcher.js';
import type { FlightOutcome, WritePlan } from './types.js';

/**
 * Runs the fetch for a flight and writes its value as the plan allows, unless invalidated
 * meanwhile. A lease taken for the flight is given up in one place, whatever happened, unless
 * the write consumed it.
 */
export async function fetchAndStore(job: FetchJob, plan: WritePlan): Promise<FlightOutcome> {
  try {
    return await fetchThenWrite(job, plan);
  } finally {
    const { context, flight } = job;
    if (plan.kind === 'lease' && flight.leaseToken === plan.token) {
      flight.leaseToken = undefined;
      // A lease that cannot be released expires by itself; waiters are bounded by their own timeout.
      await context.store.leases?.release(flight.key, plan.token).catch(() => {});
    }
  }
}

async function fetchThenWrite(job: FetchJob, plan: WritePlan): Promise<FlightOutcome> {
  const { context, flight, scope, request, stale } = job;
  // Static tags are snapshotted before the fetch: an invalidation during the fetch then changes
  // a token the entry already recorded, so the write is stale for every process, not only this one.
  const staticTags = Array.isArray(request.tags) ? normalizeTags(request.tags) : [];
  let snapshot: Readonly<Record<string, string>> | undefined;
  let snapshotError: unknown;
  if (staticTags.length > 0) {
    try {
      snapshot = await context.tags.snapshot(staticTags);
    } catch (error) {
      snapshotError = error;
    }
  }

  let value: unknown;
  try {
    value = await traceFlight(
      'fetch',
      () => flightMessage(context, scope, flight),
      () => runFetcher(job),
    );
  } catch (error) {
    if (stale !== undefined) return { source: 'stale', value: stale.value, error };
    throw error;
  }
  if (value === undefined) return { source: 'fetch', value };

  // The value or its tags may be refused: the callers must know, and nothing is written.
  const prepared = prepareFetched(context, scope, flight.key, value);
  const derivedTags =
    typeof request.tags === 'function' ? deriveTags(request.tags, prepared.returned, scope) : [];
  const returned = prepared.returned;
  if (plan.kind === 'none' || !flight.mayWrite(derivedTags)) return { source: 'fetch', value: returned };
  try {
    // An entry written without the tags it depends on could never be invalidated by them.
    if (snapshotError !== undefined) throw snapshotError;
    const tags = derivedTags.length > 0 ? await context.tags.snapshot(derivedTags) : snapshot;
    // Re-check: an invalidation may have landed while the derived tags were being snapshotted.
    if (flight.mayWrite(derivedTags)) await write(context, flight, prepared.stored, request, tags, plan);
  } catch (error) {
    recordDroppedWrites(context, scope, flight.key, error);
  }
  return { source: 'fetch', value: returned };
}

async function write(
  context: CacheContext,
  flight: Flight,
  stored: Parameters<CacheContext['entries']['write']>[1],
  request: WriteRequest,
  tags: Readonly<Record<string, string>> | undefined,
  plan: WritePlan,
): Promise<void> {
  const key = flight.key;
  if (plan.kind === 'lease' && context.store.leases !== undefined) {
    const encoded = context.entries.encode(key, stored, request.ttlMs, request.graceMs, tags);
    // `false` means an invalidation revoked the lease: dropping the write is the point.
    await context.store.leases.commit(key, plan.token, encoded.stored, encoded.physicalTtlMs);
    // Committed or revoked, the lease is gone either way: nothing left to release.
    flight.leaseToken = undefined;
    return;
  }
  await context.entries.write(key, stored, request.ttlMs, request.graceMs, tags);
}

function prepareFetched(context: CacheContext, scope: Scope, key: string, value: unknown) {
  try {
    return context.entries.prepare(value, scope, key);
  } catch (error) {
    scope.metrics.fetchErrors++;
    publish('fetchError', () => ({ ...eventOf(context, scope, key), error }));
    throw error;
  }
}

function deriveTags(derive: (value: unknown) => readonly string[], value: unknown, scope: Scope): string[] {
  try {
    return normalizeTags(derive(value));
  } catch (error) {
    scope.metrics.fetchErrors++;
    throw error instanceof CacheError
      ? error
      : new CacheError('E_INVALID_OPTION', 'the tags function threw', { cause: error });
  }
}
