/**
 * Notices a connection that stopped answering while still looking healthy (a half-open TCP
 * link: the peer vanished without a FIN, or a middlebox dropped the flow). node-redis stays
 * "ready" forever then, and TCP keep-alive takes minutes. A connection is stalled when commands
 * have been waiting for longer than `stallMs` with no reply of any kind in between.
 */
export class StallDetector {
  #pending = 0;
  #waitingSince = 0;
  #lastReplyAt = 0;
  #generation = 0;

  constructor(private readonly stallMs: number) {}

  track<T>(command: Promise<T>): Promise<T> {
    const generation = this.#generation;
    if (this.#pending === 0) this.#waitingSince = performance.now();
    this.#pending++;
    const settled = () => {
      if (generation !== this.#generation) return; // a reply from a connection already replaced
      this.#pending--;
      this.#lastReplyAt = performance.now();
    };
    command.then(settled, settled);
    return command;
  }

  isStalled(now = performance.now()): boolean {
    return this.#pending > 0 && now - Math.max(this.#waitingSince, this.#lastReplyAt) > this.stallMs;
  }

  /** Forget what is pending: those commands belonged to the connection just replaced. */
  reset(): void {
    this.#generation++;
    this.#pending = 0;
  }
}
