import type { Scope } from '../config/scope.js';
import type { WriteRequest } from '../config/write-request.js';
import { normalizeTags } from '../entry/tags.js';
import { CacheError } from '../errors.js';
import { publish, traceFlight } from '../observe/events.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import { releaseLease } from './cross-process.js';
import type { FetchJob } from './fetch-job.js';
import { type FetchDirectives, FetcherControl, NOT_MODIFIED } from './fetcher-control.js';
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
    await releaseLease(job.context, job.flight, plan);
  }
}

/** The tokens of the tags a call gives up front, or why they could not be had. */
export interface StaticTagSnapshot {
  readonly snapshot: Readonly<Record<string, string>> | undefined;
  readonly error: unknown;
}

/**
 * Static tags are snapshotted before the fetch: an invalidation during the fetch then changes a
 * token the entry already recorded, so the write is stale for every process, not only this one.
 */
export async function snapshotStaticTags(
  context: CacheContext,
  request: WriteRequest,
): Promise<StaticTagSnapshot> {
  const staticTags = Array.isArray(request.tags) ? normalizeTags(request.tags) : [];
  if (staticTags.length === 0) return { snapshot: undefined, error: undefined };
  try {
    return { snapshot: await context.tags.snapshot(staticTags), error: undefined };
  } catch (error) {
    return { snapshot: undefined, error };
  }
}

async function fetchThenWrite(job: FetchJob, plan: WritePlan): Promise<FlightOutcome> {
  const { context, flight, scope, stale } = job;
  const statics = await snapshotStaticTags(context, job.request);
  const control = new FetcherControl(context, flight, stale, plan.kind !== 'none');
  let value: unknown;
  try {
    value = await traceFlight(
      'fetch',
      () => flightMessage(context, scope, flight),
      () => runFetcher(job, control),
    );
  } catch (error) {
    if (stale !== undefined) return { source: 'stale', value: stale.value, error };
    throw error;
  }
  // notModified() only returns when there is a stale value: keep it, with a new lifetime.
  if (value === NOT_MODIFIED) value = stale?.value;
  return storeFetched(job, plan, value, statics, control);
}

/**
 * Writes a value the flight's fetch produced (unless undefined, skipped, or overtaken by an
 * invalidation) and returns what its callers get. Tags known only now (derived from the value,
 * or added by the fetcher) are checked against the invalidations the flight saw.
 */
export async function storeFetched(
  job: Pick<FetchJob, 'context' | 'flight' | 'scope' | 'request'>,
  plan: WritePlan,
  value: unknown,
  statics: StaticTagSnapshot,
  directives: FetchDirectives,
): Promise<FlightOutcome> {
  const { context, flight, scope, request } = job;
  if (value === undefined) return { source: 'fetch', value };
  // The value or its tags may be refused: the callers must know, and nothing is written.
  const prepared = prepareFetched(context, scope, flight.key, value);
  const returned = prepared.returned;
  const derivedTags = typeof request.tags === 'function' ? deriveTags(request.tags, returned, scope) : [];
  const lateTags =
    directives.tags.length === 0 ? derivedTags : [...new Set([...derivedTags, ...directives.tags])];
  const outcome: FlightOutcome =
    lateTags.length === 0
      ? { source: 'fetch', value: returned }
      : { source: 'fetch', value: returned, lateTags };
  if (directives.skipped || plan.kind === 'none' || !flight.mayWrite(lateTags)) return outcome;
  try {
    // An entry written without the tags it depends on could never be invalidated by them.
    if (statics.error !== undefined) throw statics.error;
    const added = await directives.tagSnapshot();
    const derived = derivedTags.length > 0 ? await context.tags.snapshot(derivedTags) : undefined;
    const tags = merge(statics.snapshot, added, derived);
    // Re-check: an invalidation may have landed while the late tags were being snapshotted.
    if (flight.mayWrite(lateTags)) {
      const chosen = directives.ttlMs === undefined ? request : { ...request, ttlMs: directives.ttlMs };
      await write(context, flight, prepared.stored, chosen, tags, plan);
    }
  } catch (error) {
    recordDroppedWrites(context, scope, flight.key, error);
  }
  return outcome;
}

function merge(
  ...parts: Array<Readonly<Record<string, string>> | undefined>
): Readonly<Record<string, string>> | undefined {
  const present = parts.filter((part) => part !== undefined);
  if (present.length <= 1) return present[0];
  return Object.assign(Object.create(null), ...present);
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
    const encoded = context.entries.encode(key, stored, request, tags);
    // `false` means an invalidation revoked the lease: dropping the write is the point.
    await context.store.leases.commit(key, plan.token, encoded.stored, encoded.physicalTtlMs);
    // Committed or revoked, the lease is gone either way: nothing left to release.
    flight.leaseToken = undefined;
    return;
  }
  await context.entries.write(key, stored, request, tags);
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
