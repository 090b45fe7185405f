import type { HealthStatus } from '@org/cache-core';
import type { InvalidationEvent } from './event.js';
import type { ApplyOutcome } from './outcome.js';

/** What a source hands its events to, and how it asks for a whole-entity flush. */
export interface SourceContext {
  /**
   * Applies one event. Rejects when the cache could not carry it out (the store is down): the
   * source must then keep the event (not acknowledge it) and deliver it again.
   */
  apply(event: InvalidationEvent): Promise<ApplyOutcome>;
  /**
   * Drops everything the rules know about (each entity's `all` and `collections`): for a source
   * that cannot tell what it missed, such as a replay position outside the retention window.
   */
  failSafe(reason: string): Promise<void>;
  /**
   * Counts an event the source could not turn into an `InvalidationEvent` (its normaliser threw
   * E_INVALID_EVENT): it shows in the invalidator's `invalid` counter and last error. The source
   * then drops it (acknowledges it): a malformed event must not block the ones after it.
   */
  reportInvalid(error: unknown): void;
  /** The entities the invalidator has rules for (what a source may subscribe to). */
  readonly entities: readonly string[];
}

export interface SourceHealth {
  status: HealthStatus;
  reason?: string;
  /** Where the source would resume from: a replay id, a stream entry id. */
  position?: string;
  [detail: string]: unknown;
}

/** A stream of invalidation events that can stop and resume from a position. */
export interface InvalidationSource {
  readonly name: string;
  /** Begins delivering events to `context.apply`; resolves once the source is listening. */
  start(context: SourceContext): Promise<void>;
  /** Stops delivering; resolves once no event is being applied. Idempotent. */
  stop(): Promise<void>;
  health(): SourceHealth;
}
