import type { Scope } from '../config/scope.js';
import { publish } from '../observe/events.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import { eventOf } from './record.js';
import type { FlightOutcome, StaleEntry } from './types.js';

/**
 * Arms a flight's soft timeout: if its work (waiting for another process's fetch, or its own)
 * is still running `softTimeoutMs` after the stale value was found, the callers get that value
 * at once and the work goes on in the background, up to `fetchTimeout`, writing its value as
 * usual (no stale writes, leases). Callers joining afterwards get the stale value at once too,
 * while it is inside its grace window; after that they wait for the work.
 *
 * A flight an invalidation touched is not answered early: its callers wait for the fetch, whose
 * value is at least as new as the invalidation, rather than get a value older than it.
 *
 * Returns the function that disarms it (called when the work ends).
 */
export function armSoftTimeout(
  context: CacheContext,
  scope: Scope,
  flight: Flight,
  stale: StaleEntry,
  softTimeoutMs: number,
): () => void {
  const timer = setTimeout(() => {
    if (flight.closedBy !== undefined || flight.invalidated || flight.invalidatedTags.size > 0) return;
    scope.metrics.softTimeouts++;
    publish('softTimeout', () => ({ ...eventOf(context, scope, flight.key), durationMs: softTimeoutMs }));
    const answer: FlightOutcome = { source: 'stale', value: stale.value };
    flight.answerEarly(answer, stale.livesUntil);
  }, softTimeoutMs);
  return () => clearTimeout(timer);
}
