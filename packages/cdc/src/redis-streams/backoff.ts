/** Exponential back-off with jitter: `initialMs`, doubling, capped at `maxMs`. */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** The next delay (and counts the attempt). */
  next(): number {
    const base = Math.min(this.initialMs * 2 ** Math.min(this.#attempt, 30), this.maxMs);
    this.#attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
