import { CacheError } from './errors.js';

/** Milliseconds, or a string such as `'500ms'`, `'90s'`, `'10m'`, `'12h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const unitMs: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a duration to whole milliseconds. Throws E_INVALID_OPTION naming `what` for anything
 * that is not a finite, non-negative duration.
 *
 * @example parseDuration('90s') // 90000
 */
export function parseDuration(input: Duration, what = 'duration'): number {
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
