/**
 * How a fetch knows which tags its value will depend on: none, a list given up front, or tags
 * derived from the value once it arrives.
 */
export type FlightTags = { mode: 'none' } | { mode: 'static'; tags: readonly string[] } | { mode: 'derived' };

/**
 * One fetch in flight for one key. An invalidation that touches it while it runs marks it:
 * its result still reaches the callers already waiting, but is never written. Closing the cache
 * ends it for its callers at once, whatever its fetcher does.
 */
export class Flight {
  invalidated = false;
  /**
   * Tags invalidated while in flight, whatever the flight's tag mode, with the coalescer epoch of
   * their last invalidation: checked against derived tags and tags the fetcher adds
   * (`ctx.setTags`) once they are known.
   */
  readonly invalidatedTags = new Map<string, number>();
  /** Tags the fetcher added while running (`ctx.setTags`). */
  readonly addedTags = new Set<string>();
  promise: Promise<unknown> | undefined;
  waiters = 0;
  /** The lease this flight holds, or is acquiring (set before the acquire is sent): close() releases it. */
  leaseToken: string | undefined;
  /** The running fetcher's controller: close() aborts it. */
  fetchController: AbortController | undefined;
  /** Set by close(): nothing more may start for this flight. */
  closedBy: Error | undefined;
  /**
   * Set when the callers were answered early (a stale value at the soft timeout) while the work
   * goes on: until this instant (cache clock) new callers get that answer too; `null` = no end.
   */
  answeredEarlyUntil: number | null | undefined;
  /** The work's own end, for callers that join once the early answer may no longer be served. */
  settled: Promise<unknown> | undefined;
  #waits: AbortController | undefined;
  #resolveCallers: ((value: unknown) => void) | undefined;
  #rejectCallers: ((error: unknown) => void) | undefined;
  #rejectSettled: ((error: unknown) => void) | undefined;

  constructor(
    readonly key: string,
    readonly tags: FlightTags,
  ) {}

  /**
   * The flight's work as its callers see it: settled by the work, by `answerEarly()`, or by
   * close(), whichever comes first.
   */
  run<T>(work: Promise<T>): Promise<T> {
    const settled = new Promise<T>((resolve, reject) => {
      this.#rejectSettled = reject;
      work.then(resolve, reject);
    });
    // Awaited only by callers that join after an early answer went out of date.
    settled.catch(() => {});
    this.settled = settled;
    return new Promise<T>((resolve, reject) => {
      this.#resolveCallers = resolve as (value: unknown) => void;
      this.#rejectCallers = reject;
      work.then(resolve, reject);
    });
  }

  /**
   * Settles the callers now with `answer` while the work goes on; new callers get it too until
   * `servableUntil` (then they wait for the work). Only the first answer counts.
   */
  answerEarly(answer: unknown, servableUntil: number | null): void {
    if (this.answeredEarlyUntil !== undefined) return;
    this.answeredEarlyUntil = servableUntil;
    this.#resolveCallers?.(answer);
  }

  /** What a caller joining at `now` waits on: the callers' promise, or the work's end. */
  joinAt(now: number): Promise<unknown> | undefined {
    const until = this.answeredEarlyUntil;
    if (until === undefined || until === null || now < until) return this.promise;
    return this.settled;
  }

  /** Aborted by close(): for waits that must not outlive the cache (another process's lease). */
  get waitSignal(): AbortSignal {
    this.#waits ??= new AbortController();
    return this.#waits.signal;
  }

  /** Throws what closed the flight, if it is closed. */
  assertOpen(): void {
    if (this.closedBy !== undefined) throw this.closedBy;
  }

  close(error: Error): void {
    this.closedBy = error;
    this.fetchController?.abort(error);
    this.#waits?.abort(error);
    this.#rejectCallers?.(error);
    this.#rejectSettled?.(error);
  }

  /** Tags the fetcher says the value depends on: an invalidation of one of them already seen marks the flight. */
  addTags(tags: readonly string[]): void {
    for (const tag of tags) {
      this.addedTags.add(tag);
      if (this.invalidatedTags.has(tag)) this.invalidated = true;
    }
  }

  /**
   * True when one of these tags was invalidated at or before `epoch`: a caller that joined at
   * that epoch asked after the invalidation, so the value (which depends on the tag) is not for it.
   */
  invalidatedBy(tags: readonly string[], epoch: number): boolean {
    for (const tag of tags) {
      const at = this.invalidatedTags.get(tag);
      if (at !== undefined && at <= epoch) return true;
    }
    return false;
  }

  /** True when the value may be written, given the tags it turned out to depend on. */
  mayWrite(finalTags: readonly string[]): boolean {
    if (this.invalidated) return false;
    for (const tag of finalTags) if (this.invalidatedTags.has(tag)) return false;
    return true;
  }
}

const MAX_REFRESH_RETRIES = 10_000;

/**
 * In-process request coalescing with no stale writes. Concurrent callers of one key share one
 * flight. An invalidation detaches the flights it touches, so a call that starts after it
 * always starts a new fetch, and marks them so their results are not stored.
 */
export class Coalescer {
  private readonly flights = new Map<string, Flight>();
  /**
   * Background refreshes (eager refresh), by key: one per key at a time. Apart from `flights`
   * because a caller must never wait on one by joining it, only a caller that missed.
   */
  private readonly refreshing = new Map<string, Flight>();
  /** Keys whose last refresh failed, with when (cache clock) one may be tried again. */
  private readonly refreshRetries = new Map<string, number>();
  /** Every flight, joined or detached, until it settles: invalidations must reach them all. */
  private readonly running = new Set<Flight>();
  /** Bumped by every invalidation: lets memoized functions tell pre- and post-invalidation calls apart. */
  epoch = 0;

  get size(): number {
    return this.running.size;
  }

  /** The flight a new caller of `key` may join: never one an invalidation has already marked. */
  find(key: string): Flight | undefined {
    const flight = this.flights.get(key);
    return flight?.invalidated ? undefined : flight;
  }

  /** The background refresh running for `key`, unless an invalidation detached it. */
  findRefresh(key: string): Flight | undefined {
    return this.refreshing.get(key);
  }

  /** Registers a background refresh: invalidations reach it like any flight. */
  startRefresh(key: string, tags: FlightTags): Flight {
    const flight = new Flight(key, tags);
    this.refreshing.set(key, flight);
    this.running.add(flight);
    return flight;
  }

  /** False while a failed refresh of `key` holds off the next one. */
  mayRetryRefresh(key: string, now: number): boolean {
    const after = this.refreshRetries.get(key);
    if (after === undefined) return true;
    if (now < after) return false;
    this.refreshRetries.delete(key);
    return true;
  }

  /** Holds off refreshes of `key` until `until`, after one failed (a down upstream is not hammered). */
  holdOffRefresh(key: string, until: number): void {
    // Bounded like the key memo: at worst a key is retried early.
    if (this.refreshRetries.size >= MAX_REFRESH_RETRIES) this.refreshRetries.clear();
    this.refreshRetries.set(key, until);
  }

  start(key: string, tags: FlightTags, share = true): Flight {
    const flight = new Flight(key, tags);
    if (share) this.flights.set(key, flight);
    this.running.add(flight);
    return flight;
  }

  /**
   * Ends every running flight for its callers (close()), and returns the leases they hold or are
   * acquiring, for the cache to release before it lets go of the store.
   */
  closeAll(error: Error): Array<{ key: string; token: string }> {
    const leases: Array<{ key: string; token: string }> = [];
    for (const flight of this.running) {
      flight.close(error);
      if (flight.leaseToken !== undefined) leases.push({ key: flight.key, token: flight.leaseToken });
    }
    this.flights.clear();
    this.refreshing.clear();
    return leases;
  }

  finish(flight: Flight): void {
    this.running.delete(flight);
    this.detach(flight);
  }

  invalidateKeys(keys: Iterable<string>): void {
    this.epoch++;
    // Every set passes here, and mostly no fetch is running: no Set built for nothing.
    if (this.running.size === 0) return;
    const wanted = new Set(keys);
    for (const flight of this.running) if (wanted.has(flight.key)) this.invalidate(flight);
  }

  invalidateMatching(test: (key: string) => boolean): void {
    this.epoch++;
    for (const flight of this.running) if (test(flight.key)) this.invalidate(flight);
  }

  invalidateTags(tags: readonly string[]): void {
    this.epoch++;
    for (const flight of this.running) {
      // Any fetcher may still add tags (ctx.setTags): the write is checked against these then.
      for (const tag of tags) flight.invalidatedTags.set(tag, this.epoch);
      if (tags.some((tag) => flight.addedTags.has(tag))) {
        this.invalidate(flight);
        continue;
      }
      if (flight.tags.mode === 'none') continue;
      if (flight.tags.mode === 'static') {
        if (flight.tags.tags.some((tag) => tags.includes(tag))) this.invalidate(flight);
        continue;
      }
      // Derived tags are unknown until the value arrives: keep new callers from joining a fetch
      // that may turn out to be stale.
      this.detach(flight);
    }
  }

  private invalidate(flight: Flight): void {
    flight.invalidated = true;
    this.detach(flight);
  }

  private detach(flight: Flight): void {
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
    if (this.refreshing.get(flight.key) === flight) this.refreshing.delete(flight.key);
  }
}
