import { CacheError } from '../errors.js';
import { type Duration, parseDuration } from './duration.js';

export type StrategyKind = 'ttl' | 'eventDriven' | 'hybrid';

/**
 * How long an entry stays fresh. Chosen per cache, domain or bucket; a per-call `ttl` overrides
 * the duration but keeps the kind.
 */
export interface Strategy {
  readonly kind: StrategyKind;
  /** Fresh window in ms; `null` = until invalidated (event-driven with safetyTtl 0). */
  readonly ttlMs: number | null;
}

export const DEFAULT_SAFETY_TTL_MS = 12 * 3_600_000;

/** Entries expire `duration` after they are written. */
export function ttl(duration: Duration): Strategy {
  return Object.freeze({ kind: 'ttl', ttlMs: positive(duration, 'ttl()') });
}

export interface EventDrivenOptions {
  /** Net for missed events: entries expire after this anyway. Default 12 h; `0` = never. */
  safetyTtl?: Duration;
}

/** Entries live until an event invalidates them, or until the safety TTL as a self-healing net. */
export function eventDriven(options: EventDrivenOptions = {}): Strategy {
  const safety = parseDuration(options.safetyTtl ?? DEFAULT_SAFETY_TTL_MS, 'eventDriven({ safetyTtl })');
  return Object.freeze({ kind: 'eventDriven', ttlMs: safety === 0 ? null : safety });
}

export interface HybridOptions {
  ttl: Duration;
}

/** A short TTL for volatile data, and events invalidate earlier when they come. */
export function hybrid(options: HybridOptions): Strategy {
  if (typeof options !== 'object' || options === null || options.ttl === undefined) {
    throw new CacheError('E_INVALID_OPTION', 'hybrid() needs { ttl }');
  }
  return Object.freeze({ kind: 'hybrid', ttlMs: positive(options.ttl, 'hybrid({ ttl })') });
}

/** A per-call `ttl` override: same kind, new fresh window. */
export function withTtl(strategy: Strategy, duration: Duration): Strategy {
  return { kind: strategy.kind, ttlMs: positive(duration, 'ttl') };
}

export function isStrategy(value: unknown): value is Strategy {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Strategy;
  return (
    (candidate.kind === 'ttl' || candidate.kind === 'eventDriven' || candidate.kind === 'hybrid') &&
    (candidate.ttlMs === null || typeof candidate.ttlMs === 'number')
  );
}

function positive(duration: Duration, what: string): number {
  const ms = parseDuration(duration, what);
  if (ms <= 0) throw new CacheError('E_INVALID_OPTION', `${what} must be greater than 0`);
  return ms;
}
