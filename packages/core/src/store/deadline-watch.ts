import { StoreTimeoutError } from '../errors.js';

/** One operation under watch: its deadline, and what to do if the deadline comes first. */
export interface Watched {
  readonly expiresAt: number;
  readonly operation: string;
  readonly expired: (timeout: StoreTimeoutError) => void;
  /** Unlinked: finished, or expired by the timer (whichever came first). */
  done: boolean;
  previous: Watched | undefined;
  next: Watched | undefined;
}

/**
 * Deadlines for every operation of a store, with one timer for all of them instead of a
 * setTimeout each. A timer per operation costs a Timeout object and a timer-list insert and
 * removal; with one operation in flight at a time (one caller awaiting Redis) it also starts and
 * stops libuv's timer on every call, which measured about 2% of a Redis get.
 *
 * Operations wait in a list in the order they started, which, with one deadline length, is the
 * order their deadlines fall: the timer is armed for the oldest, and a finished operation unlinks
 * itself in O(1). The timer fires at most once per deadline length while operations flow.
 *
 * It makes no promise of its own: the caller settles its one promise either from `finish()`
 * (when that returns true) or from `expired` (see GuardedStore, where each store operation is a
 * single promise).
 */
export class DeadlineWatch {
  #oldest: Watched | undefined;
  #newest: Watched | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly store: string,
  ) {}

  /** Starts the clock on `operation`; `expired` is called if `finish` has not been `timeoutMs` from now. */
  start(operation: string, expired: (timeout: StoreTimeoutError) => void): Watched {
    const watched: Watched = {
      // The exact clock: a reading cached from before a blocked event loop would expire an
      // operation that has only just started.
      expiresAt: performance.now() + this.timeoutMs,
      operation,
      expired,
      done: false,
      previous: this.#newest,
      next: undefined,
    };
    if (this.#newest === undefined) this.#oldest = watched;
    else this.#newest.next = watched;
    this.#newest = watched;
    this.#timer ??= this.#arm(watched.expiresAt);
    return watched;
  }

  /** Stops the clock: true if the operation finished in time, false if it had already expired. */
  finish(watched: Watched): boolean {
    if (watched.done) return false;
    this.#unlink(watched);
    return true;
  }

  #unlink(watched: Watched): void {
    watched.done = true;
    if (watched.previous === undefined) this.#oldest = watched.next;
    else watched.previous.next = watched.next;
    if (watched.next === undefined) this.#newest = watched.previous;
    else watched.next.previous = watched.previous;
  }

  #arm(at: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(this.#expire, Math.max(1, Math.ceil(at - performance.now())));
    // It may outlive the last operation by up to a deadline; that must not delay a process's
    // exit (an operation in flight is kept alive by its own socket).
    timer.unref?.();
    return timer;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    let watched = this.#oldest;
    while (watched !== undefined && watched.expiresAt <= now) {
      this.#unlink(watched);
      watched.expired(new StoreTimeoutError(watched.operation, this.timeoutMs, { store: this.store }));
      watched = this.#oldest;
    }
    if (watched !== undefined) this.#timer = this.#arm(watched.expiresAt);
  };
}
