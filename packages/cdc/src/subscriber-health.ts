import type { ComponentHealth, HealthStatus } from '@org/cache-core';
import type { SourceHealth } from './source.js';

export interface InvalidatorCounters {
  /** Events whose plan ran. */
  processed: number;
  /** Events for an entity with no rule. */
  ignored: number;
  /** UPDATEs that touched only ignorable fields. */
  skipped: number;
  /** Re-deliveries of a change already applied. */
  duplicates: number;
  /** Events whose plan failed (the store refused); the source delivers them again. */
  failed: number;
  /** Malformed events, refused with E_INVALID_EVENT. */
  invalid: number;
  /** Header-only events (Salesforce GAP_*): the source lost their bodies. */
  gaps: number;
  /** Events that named every record of an entity (GAP_OVERFLOW, wildcard ids). */
  overflows: number;
  /** Whole-cache flushes because a source could not tell what it missed. */
  failSafes: number;
  keysInvalidated: number;
  tagsInvalidated: number;
  patternsInvalidated: number;
}

export interface InvalidatorHealth extends ComponentHealth {
  status: HealthStatus;
  reason?: string;
  /** ISO-8601: when the last event was applied. */
  lastEventAt?: string;
  /** The source position of the last applied event. */
  lastPosition?: string;
  /** Now minus the last applied event's commit time, when it was applied (ms). */
  lagMs?: number;
  /** The last failure, if any, and when. */
  lastError?: { at: string; message: string };
  /** The last fail-safe flush, if any, and why. */
  lastFailSafe?: { at: string; reason: string };
  counters: InvalidatorCounters;
  sources: Record<string, SourceHealth>;
}

export function emptyCounters(): InvalidatorCounters {
  return {
    processed: 0,
    ignored: 0,
    skipped: 0,
    duplicates: 0,
    failed: 0,
    invalid: 0,
    gaps: 0,
    overflows: 0,
    failSafes: 0,
    keysInvalidated: 0,
    tagsInvalidated: 0,
    patternsInvalidated: 0,
  };
}

/**
 * `down` when a source is down; `degraded` when a source is, when the latest event failed to
 * apply, or when events arrive later than `maxLagMs` after their commit; `up` otherwise.
 */
export function subscriberStatus(input: {
  sources: readonly SourceHealth[];
  failing: boolean;
  lagMs: number | undefined;
  maxLagMs: number;
}): { status: HealthStatus; reason?: string } {
  const down = input.sources.find((source) => source.status === 'down');
  if (down) return { status: 'down', reason: down.reason ?? 'a source is down' };
  const degraded = input.sources.find((source) => source.status === 'degraded');
  if (degraded) return { status: 'degraded', reason: degraded.reason ?? 'a source is degraded' };
  if (input.failing) return { status: 'degraded', reason: 'the latest event could not be applied' };
  if (input.lagMs !== undefined && input.lagMs > input.maxLagMs)
    return { status: 'degraded', reason: `events arrive ${input.lagMs} ms after their commit` };
  return { status: 'up' };
}
