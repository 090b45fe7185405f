import type { CacheError } from '@org/cache-core';

/**
 * "Tracking is on for the first time", as a promise settled once: resolved when it comes up,
 * rejected when tracking is refused or closed first. Later calls of `settle` change nothing.
 * Nobody may be waiting on it (a refusal is also reported through `state(false)`), so an
 * unobserved rejection is not an unhandled one.
 */
export class FirstUp {
  readonly promise: Promise<void>;
  #settle: (error?: CacheError) => void = () => {};

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => {
        this.#settle = () => {};
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    this.promise.catch(() => {});
  }

  settle(error?: CacheError): void {
    this.#settle(error);
  }
}
