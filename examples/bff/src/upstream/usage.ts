import { NotFoundError } from './errors.js';

/**
 * How much one upstream was needed and how much it was actually called: the difference is what
 * the cache (and coalescing) saved it.
 */
export class UpstreamUsage {
  /** API requests that needed this upstream's data. */
  requests = 0;
  /** Calls that reached the upstream. */
  calls = 0;
  /** Calls that failed (errors and timeouts; not "not found" answers). */
  failures = 0;

  constructor(readonly name: string) {}

  /** Counts one call and its failure, if it fails. */
  async call<T>(run: () => Promise<T>): Promise<T> {
    this.calls++;
    try {
      return await run();
    } catch (error) {
      // "No such record" is an answer, not a failure of the upstream.
      if (!(error instanceof NotFoundError)) this.failures++;
      throw error;
    }
  }

  snapshot(): { requests: number; calls: number; failures: number; saved: number } {
    return {
      requests: this.requests,
      calls: this.calls,
      failures: this.failures,
      saved: Math.max(0, this.requests - this.calls),
    };
  }
}
