import { CacheError, type Duration, parseDuration } from '@org/cache-core';

/** A clock that only moves when a test moves it; pass it as `createCache({ clock })`. */
export interface ManualClock {
  now(): number;
  /** Moves the clock forward and returns the new time. Negative durations are refused. */
  advance(by: number | Duration): number;
  /** Jumps to an instant, backwards too (clock skew between machines is a thing to test). */
  set(ms: number): void;
}

/**
 * @example
 * const clock = manualClock();
 * const cache = createCache({ store: new Map(), clock });
 * await cache.set('k', 1, { ttl: '1m' });
 * clock.advance('61s'); // the entry is now expired, with no real waiting
 */
export function manualClock(start = 0): ManualClock {
  let current = instant(start, 'manualClock(start)');
  return {
    now: () => current,
    advance(by) {
      current += parseDuration(by, 'clock.advance()');
      return current;
    },
    set(ms) {
      current = instant(ms, 'clock.set()');
    },
  };
}

function instant(ms: number, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new CacheError('E_INVALID_OPTION', `${what} needs a finite number of ms, got ${String(ms)}`);
  }
  return ms;
}
