import { CacheError } from '../errors.js';
import { type Duration, parseDuration } from './duration.js';
import { parseJitter } from './freshness.js';

export type StrategyKind = 'ttl' | 'eventDriven' | 'hybrid';

/**
 * How long an entry stays fresh. Chosen per cache, domain or bucket; a per-call `ttl` overrides
 * the duration but keeps the kind.
 */
export interface Strategy {
  readonly kind: StrategyKind;
  /** Fresh window in ms; `null` = until invalidated (event-driven with safetyTtl 0). */
  readonly ttlMs: number | null;
  /** Each stored fresh window is spread by up to +-this fraction of itself. Default 0. */
  readonly jitter?: number;
}

export const DEFAULT_SAFETY_TTL_MS = 12 * 3_600_000;

export interface JitterOptions {
  /**
   * Spreads each entry's lifetime by up to +-this fraction (0.1 = +-10%), in [0, 1), so entries
   * written together do not expire, and are not refreshed, together. Default 0.
   */
  jitter?: number;
}

/**
 * Entries expire `duration` after they are written.
 *
 * @example ttl('10m', { jitter: 0.1 }) // each entry lives 9 to 11 minutes
 */
export function ttl(duration: Duration, options: JitterOptions = {}): Strategy {
  return strategy('ttl', positive(duration, 'ttl()'), options, 'ttl()');
}

export interface EventDrivenOptions extends JitterOptions {
  /** Net for missed events: entries expire after this anyway. Default 12 h; `0` = never. */
  safetyTtl?: Duration;
}

/** Entries live until an event invalidates them, or until the safety TTL as a self-healing net. */
export function eventDriven(options: EventDrivenOptions = {}): Strategy {
  const safety = parseDuration(options.safetyTtl ?? DEFAULT_SAFETY_TTL_MS, 'eventDriven({ safetyTtl })');
  return strategy('eventDriven', safety === 0 ? null : safety, options, 'eventDriven()');
}

export interface HybridOptions extends JitterOptions {
  ttl: Duration;
}

/** A short TTL for volatile data, and events invalidate earlier when they come. */
export function hybrid(options: HybridOptions): Strategy {
  if (typeof options !== 'object' || options === null || options.ttl === undefined) {
    throw new CacheError('E_INVALID_OPTION', 'hybrid() needs { ttl }');
  }
  return strategy('hybrid', positive(options.ttl, 'hybrid({ ttl })'), options, 'hybrid()');
}

export function isStrategy(value: unknown): value is Strategy {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Strategy;
  return (
    (candidate.kind === 'ttl' || candidate.kind === 'eventDriven' || candidate.kind === 'hybrid') &&
    (candidate.ttlMs === null || typeof candidate.ttlMs === 'number') &&
    (candidate.jitter === undefined ||
      (typeof candidate.jitter === 'number' && candidate.jitter >= 0 && candidate.jitter < 1))
  );
}

function strategy(kind: StrategyKind, ttlMs: number | null, options: JitterOptions, what: string): Strategy {
  if (typeof options !== 'object' || options === null) {
    throw new CacheError('E_INVALID_OPTION', `${what} options must be an object`);
  }
  const jitter = options.jitter === undefined ? 0 : parseJitter(options.jitter, `${what} jitter`);
  return Object.freeze(jitter === 0 ? { kind, ttlMs } : { kind, ttlMs, jitter });
}

function positive(duration: Duration, what: string): number {
  const ms = parseDuration(duration, what);
  if (ms <= 0) throw new CacheError('E_INVALID_OPTION', `${what} must be greater than 0`);
  return ms;
}
