import type { Scope } from '../config/scope.js';
import type { ReadOutcome } from '../entry/entries.js';
import { type CacheEvent, type FetchTraceMessage, isObserved, publish } from '../observe/events.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';

/**
 * Counting and publishing in one place, so stats() and the diagnostics_channel events always
 * agree: every counted hit, miss or store error is also published, once, with the scope's labels.
 */
export function eventOf(context: CacheContext, scope: Scope, key: string | undefined): CacheEvent {
  return { cache: context.name, domain: scope.metrics.domain, bucket: scope.metrics.bucket, key };
}

/** The message of the `fetch` and `coalesced` tracing channels for one flight. */
export function flightMessage(context: CacheContext, scope: Scope, flight: Flight): FetchTraceMessage {
  return {
    cache: context.name,
    domain: scope.metrics.domain,
    bucket: scope.metrics.bucket,
    key: flight.key,
    flight,
  };
}

export function recordHit(context: CacheContext, scope: Scope, key: string): void {
  scope.metrics.hits++;
  // The hit path of an in-memory cache: no closure unless someone listens.
  if (isObserved('hit')) publish('hit', () => eventOf(context, scope, key));
}

export function recordMiss(context: CacheContext, scope: Scope, key: string): void {
  scope.metrics.misses++;
  publish('miss', () => eventOf(context, scope, key));
}

/** A caller served a stale value (inside its grace window) because the fetch failed. */
export function recordStaleHit(context: CacheContext, scope: Scope, key: string, error: unknown): void {
  scope.metrics.staleHits++;
  publish('staleHit', () => ({ ...eventOf(context, scope, key), error }));
}

export function recordStoreError(
  context: CacheContext,
  scope: Scope,
  key: string | undefined,
  error: unknown,
): void {
  scope.metrics.storeErrors++;
  publish('storeError', () => ({ ...eventOf(context, scope, key), error }));
}

export function recordDroppedWrites(
  context: CacheContext,
  scope: Scope,
  key: string | undefined,
  error: unknown,
  count = 1,
): void {
  recordStoreError(context, scope, key, error);
  scope.metrics.droppedWrites += count;
}

/** Counts what made a read fail to produce a value: a corrupt entry or a store error. */
export function recordReadProblem(
  context: CacheContext,
  scope: Scope,
  key: string,
  outcome: ReadOutcome,
): void {
  if (outcome.kind === 'corrupt') {
    scope.metrics.corruptEntries++;
    publish('corruptEntry', () => eventOf(context, scope, key));
  } else if (outcome.kind === 'error') {
    recordStoreError(context, scope, key, outcome.error);
  }
}
