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
  #waits: AbortController | undefined;
  #rejectCallers: ((error: unknown) => void) | undefined;

  constructor(
    readonly key: string,
    readonly tags: FlightTags,
  ) {}

  /** The flight's work as its callers see it: settled by the work, or by close() if that comes first. */
  run<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#rejectCallers = reject;
      work.then(resolve, reject);
    });
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

/**
 * In-process request coalescing with no stale writes. Concurrent callers of one key share one
 * flight. An invalidation detaches the flights it touches, so a call that starts after it
 * always starts a new fetch, and marks them so their results are not stored.
 */
export class Coalescer {
  private readonly flights = new Map<string, Flight>();
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
    return leases;
  }

  finish(flight: Flight): void {
    this.running.delete(flight);
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
  }

  invalidateKeys(keys: Iterable<string>): void {
    this.epoch++;
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
  }
}
