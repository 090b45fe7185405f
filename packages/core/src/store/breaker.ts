export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before one probe is let through, in ms. */
  cooldownMs: number;
}

/**
 * Stops hammering a store that keeps failing: after `failureThreshold` consecutive failures every
 * call fails fast for `cooldownMs`, then a single probe decides between closing and another
 * cooldown. Uses the monotonic clock, not the cache's injected clock: it measures real outages.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  state: BreakerState = 'closed';
  lastError: unknown;
  openings = 0;

  constructor(private readonly options: BreakerOptions) {}

  /** False when the call must fail fast. A true answer in half-open state is the probe. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (performance.now() - this.openedAt < this.options.cooldownMs) return false;
      this.state = 'half-open';
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  succeeded(): void {
    this.failures = 0;
    this.probing = false;
    this.state = 'closed';
  }

  failed(error: unknown): void {
    this.lastError = error;
    this.probing = false;
    this.failures++;
    if (this.state === 'half-open' || this.failures >= this.options.failureThreshold) {
      if (this.state !== 'open') this.openings++;
      this.state = 'open';
      this.openedAt = performance.now();
    }
  }
}
