import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '@org/cache-core';
import type { SourceContext } from '../source.js';
import type { Problem } from './pubsub-health.js';
import { messageOf } from './stream-errors.js';

/**
 * A fail-safe flush that is due: nothing from the stream is applied, and no position is saved,
 * until it has succeeded (a position saved before the flush would let a restart skip it).
 */
export class FailSafeGate {
  readonly #clock: Clock;
  readonly #delay: (attempt: number) => number;
  readonly #onError: (error: unknown) => void;
  #due: string | undefined;
  #attempted: (() => void)[] = [];
  /** The last flush that succeeded, and why it was made. */
  last: { at: string; reason: string } | undefined;
  /** Set while the flush keeps failing. */
  problem: Problem | undefined;

  constructor(clock: Clock, delay: (attempt: number) => number, onError: (error: unknown) => void) {
    this.#clock = clock;
    this.#delay = delay;
    this.#onError = onError;
  }

  get due(): string | undefined {
    return this.#due;
  }

  require(reason: string): void {
    this.#due = reason;
  }

  /** Resolves after the next flush attempt, whatever its outcome, or at once if none is due. */
  attempted(): Promise<void> {
    if (this.#due === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#attempted.push(resolve));
  }

  /** Flushes if due, retrying with back-off until it succeeds; false when aborted first. */
  async settle(context: SourceContext | undefined, signal: AbortSignal): Promise<boolean> {
    for (let attempt = 0; this.#due !== undefined; attempt++) {
      const reason = this.#due;
      if (!context || signal.aborted) return false;
      try {
        await context.failSafe(reason);
        this.last = { at: new Date(this.#clock.now()).toISOString(), reason };
        this.#due = undefined;
        this.problem = undefined;
      } catch (error) {
        this.#onError(error);
        this.problem = { status: 'down', reason: `fail-safe flush failed (${reason}): ${messageOf(error)}` };
      }
      for (const notify of this.#attempted.splice(0)) notify();
      if (
        this.#due !== undefined &&
        !(await sleep(this.#delay(attempt), true, { signal }).catch(() => false))
      )
        return false;
    }
    return !signal.aborted;
  }

  /** Releases anyone waiting for an attempt that will not come (the source stopped). */
  release(): void {
    for (const notify of this.#attempted.splice(0)) notify();
  }
}
