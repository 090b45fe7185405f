/**
 * How a fetch knows which tags its value will depend on: none, a list given up front, or tags
 * derived from the value once it arrives.
 */
export type FlightTags = { mode: 'none' } | { mode: 'static'; tags: readonly string[] } | { mode: 'derived' };

/**
 * One fetch in flight for one key. An invalidation that touches it while it runs marks it:
 * its result still reaches the callers already waiting, but is never written.
 */
export class Flight {
  invalidated = false;
  /** Tags invalidated while in flight: checked against derived tags once the value is known. */
  readonly invalidatedTags = new Set<string>();
  promise: Promise<unknown> | undefined;
  waiters = 0;

  constructor(
    readonly key: string,
    readonly tags: FlightTags,
  ) {}

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

  find(key: string): Flight | undefined {
    return this.flights.get(key);
  }

  start(key: string, tags: FlightTags, share = true): Flight {
    const flight = new Flight(key, tags);
    if (share) this.flights.set(key, flight);
    this.running.add(flight);
    return flight;
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
      if (flight.tags.mode === 'none') continue;
      if (flight.tags.mode === 'static') {
        if (flight.tags.tags.some((tag) => tags.includes(tag))) this.invalidate(flight);
        continue;
      }
      // Derived tags are unknown until the value arrives: remember what was invalidated, and keep
      // new callers from joining a fetch that may turn out to be stale.
      for (const tag of tags) flight.invalidatedTags.add(tag);
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
