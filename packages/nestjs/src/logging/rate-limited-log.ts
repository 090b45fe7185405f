import type { LoggerService } from '@nestjs/common';

export type LogLevel = 'error' | 'warn' | 'log';

/**
 * One kind of problem, reported at most once per interval: the first occurrence is written at
 * once, the following ones are counted and summed up in one line when the interval ends. An
 * outage of thousands of failed operations is then a few lines, not a flood.
 */
export class RateLimitedLog {
  #windowStartedAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;
  #latest = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: LoggerService,
    private readonly level: LogLevel,
    private readonly intervalMs: number,
  ) {}

  report(message: string): void {
    const now = performance.now();
    if (now - this.#windowStartedAt >= this.intervalMs && this.#timer === undefined) {
      this.#windowStartedAt = now;
      this.#write(message);
      return;
    }
    this.#suppressed++;
    this.#latest = message;
    if (this.#timer === undefined) {
      const wait = Math.max(0, this.intervalMs - (now - this.#windowStartedAt));
      // Unref'd: a pending summary must not keep a closing process alive.
      this.#timer = setTimeout(() => this.#flush(), wait).unref();
    }
  }

  /** Writes the pending summary, if any, and stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#flush();
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#suppressed === 0) return;
    const count = this.#suppressed;
    this.#suppressed = 0;
    this.#windowStartedAt = performance.now();
    this.#write(`${count} more in the last ${describeInterval(this.intervalMs)}; latest: ${this.#latest}`);
  }

  #write(message: string): void {
    this.logger[this.level](message);
  }
}

function describeInterval(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
