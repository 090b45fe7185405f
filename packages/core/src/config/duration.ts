import { CacheError } from '../errors.js';

/** Milliseconds, or a string such as `'500ms'`, `'90s'`, `'10m'`, `'12h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;
/** The units a duration string may carry: milliseconds, seconds, minutes, hours, days. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const unitMs: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * The longest lifetime (TTL, grace, safety TTL, tag TTL) every store can hold: 100 years. Redis
 * refuses a `PX` it cannot add to its clock, and the envelope's instants must stay exact integers;
 * a longer TTL is refused up front, the same on every store, rather than dropped by one of them.
 */
export const MAX_TTL_MS = 100 * 365 * 86_400_000;

/** The longest timeout or delay: `setTimeout` fires at once (with a warning) for anything longer. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Parses a duration to whole milliseconds. Throws E_INVALID_OPTION naming `what` for anything
 * that is not a finite, non-negative duration of at most `maxMs` (default `MAX_TTL_MS`).
 *
 * @example parseDuration('90s') // 90000
 */
export function parseDuration(input: Duration, what = 'duration', maxMs = MAX_TTL_MS): number {
  const ms = toMs(input, what);
  if (ms > maxMs) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${what} must be at most ${maxMs} ms (${describeMs(maxMs)}), got ${ms} ms`,
    );
  }
  return ms;
}

/** A duration used as a timer's delay: at most `MAX_TIMEOUT_MS` (about 24.8 days). */
export function parseTimeout(input: Duration, what: string): number {
  return parseDuration(input, what, MAX_TIMEOUT_MS);
}

function toMs(input: Duration, what: string): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      throw new CacheError('E_INVALID_OPTION', `${what} must be a finite number of ms >= 0, got ${input}`);
    }
    return Math.round(input);
  }
  if (typeof input === 'string') {
    const match = durationPattern.exec(input.trim());
    if (match) return Math.round(Number(match[1]) * unitMs[match[2] as DurationUnit]);
  }
  throw new CacheError(
    'E_INVALID_OPTION',
    `${what} must be ms or a string like '500ms', '90s', '10m', '12h', '1d'; got ${JSON.stringify(input)}`,
  );
}

function describeMs(ms: number): string {
  return ms >= 365 * unitMs.d
    ? `${Math.round(ms / (365 * unitMs.d))} years`
    : `${(ms / unitMs.d).toFixed(1)} days`;
}
