/** How much work (keys looked at plus glob match steps) passes between two looks at the clock. */
const WORK_BETWEEN_CHECKS = 4_096;
const DEFAULT_SLICE_MS = 8;

/**
 * Gives the event loop a turn during a long synchronous walk, such as a pattern scan over a
 * million in-memory keys: without it, one `countByPattern` holds every other request (and a
 * Redis connection's replies, whose deadlines then expire) until it is done. The walk reports a
 * running total of the work it has done; every `sliceMs` of it, `due()` hands back a promise
 * that resolves after pending I/O has had its turn (`setImmediate`).
 *
 * @example
 * const turns = new EventLoopTurns();
 * for (const key of keys) {
 *   // ...
 *   const turn = turns.due(++seen + matcher.steps);
 *   if (turn !== undefined) await turn;
 * }
 */
export class EventLoopTurns {
  #sliceStart = performance.now();
  #checkedAt = 0;

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** A promise to await when the current slice is used up, else `undefined` (no await needed). */
  due(work: number): Promise<void> | undefined {
    if (work - this.#checkedAt < WORK_BETWEEN_CHECKS) return undefined;
    this.#checkedAt = work;
    if (performance.now() - this.#sliceStart < this.sliceMs) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.#sliceStart = performance.now();
    });
  }
}
