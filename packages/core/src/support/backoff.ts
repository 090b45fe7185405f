import { CacheError } from '../errors.js';

export interface BackoffOptions {
  /** The first delay. */
  initialMs: number;
  /** No delay is longer than this (before jitter). */
  maxMs: number;
  /**
   * Each delay is spread by up to this fraction either way (default 0.2), so that processes that
   * lost the same server do not all come back in the same millisecond.
   */
  jitter?: number;
}

/** Capped exponential back-off without jitter: `initialMs`, doubling per attempt, at most `maxMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  if (initialMs <= 0) return 0;
  // 2^30 already exceeds any sensible cap; a larger exponent would only overflow to Infinity.
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** Capped exponential back-off with jitter for retry loops: `next()` per failure, `reset()` on success. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    const { initialMs, maxMs, jitter = 0.2 } = options;
    if (!(initialMs >= 0) || !(maxMs >= initialMs) || !Number.isFinite(maxMs)) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `back-off needs 0 <= initialMs <= maxMs (finite), got ${initialMs} and ${maxMs}`,
      );
    }
    if (!(jitter >= 0 && jitter < 1)) {
      throw new CacheError('E_INVALID_OPTION', `back-off jitter must be in [0, 1), got ${jitter}`);
    }
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#jitter = jitter;
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next try (and counts the attempt). */
  next(): number {
    const base = backoffDelay(this.#attempt, this.#initialMs, this.#maxMs);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter + Math.random() * 2 * this.#jitter));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
