/**
 * The ids of recently applied changes, so a re-delivered event is applied once. Bounded: past
 * `capacity` the oldest ids are forgotten (a duplicate that old is applied again, which for an
 * invalidation costs one extra miss, never a stale read).
 */
export class RecentChanges {
  readonly #seen = new Set<string>();
  // Insertion order in a ring: evicting the oldest is O(1). (Deleting a Set's first entry over and
  // over is not: V8 keeps the deleted slots until a rehash, and each `values().next()` skips them.)
  readonly #ring: Array<string | undefined>;
  #next = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array(capacity);
  }

  has(id: string): boolean {
    return this.#seen.has(id);
  }

  add(id: string): void {
    if (this.#seen.has(id)) return;
    const evicted = this.#ring[this.#next];
    if (evicted !== undefined) this.#seen.delete(evicted);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.capacity;
    this.#seen.add(id);
  }

  get size(): number {
    return this.#seen.size;
  }
}
