import type { PositionStore, ReplayPosition } from './position-store.js';

/**
 * Saves positions one at a time, the latest winning: while a save is in flight, newer positions
 * replace each other and only the last is written next. A position is saved after every event,
 * so without this a slow store would queue one write per event.
 */
export class PositionWriter {
  readonly #store: PositionStore;
  readonly #topic: string;
  readonly #onError: (error: unknown) => void;
  #pending: ReplayPosition | undefined;
  #writing: Promise<void> | undefined;

  constructor(store: PositionStore, topic: string, onError: (error: unknown) => void) {
    this.#store = store;
    this.#topic = topic;
    this.#onError = onError;
  }

  save(position: ReplayPosition): void {
    this.#pending = position;
    this.#writing ??= this.#drain();
  }

  /** Resolves once every position given so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#pending; next !== undefined; next = this.#pending) {
        this.#pending = undefined;
        try {
          await this.#store.save(this.#topic, next);
        } catch (error) {
          this.#onError(error);
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }
}
