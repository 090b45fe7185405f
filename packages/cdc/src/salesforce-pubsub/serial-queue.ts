/** Runs async tasks one at a time, in the order given; a failing task never blocks the next. */
export class SerialQueue {
  readonly #onError: (error: unknown) => void;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Resolves with the task's result, or undefined when it threw (reported to `onError`). */
  enqueue<T>(task: () => T | Promise<T>): Promise<T | undefined> {
    const run = this.#tail.then(task).catch((error: unknown) => {
      this.#onError(error);
      return undefined;
    });
    this.#tail = run;
    return run;
  }

  /** Resolves once every task is done, including tasks that tasks enqueued meanwhile. */
  async drained(): Promise<void> {
    for (let tail = this.#tail; ; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }
}
