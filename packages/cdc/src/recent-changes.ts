/**
 * The ids of recently applied changes, so a re-delivered event is applied once. Bounded: past
 * `capacity` the oldest ids are forgotten (a duplicate that old is applied again, which for an
 * invalidation costs one extra miss, never a stale read).
 */
export class RecentChanges {
  readonly #seen = new Set<string>();

  constructor(readonly capacity: number) {}

  has(id: string): boolean {
    return this.#seen.has(id);
  }

  add(id: string): void {
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    if (this.#seen.size > this.capacity) {
      // A Set iterates in insertion order: the first id is the oldest.
      const oldest = this.#seen.values().next().value as string;
      this.#seen.delete(oldest);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
