import type { PositionStore, ReplayPosition } from './position-store.js';
import { PositionWriter } from './position-writer.js';
import type { ReadReplayId } from './replay-id.js';

/**
 * The position a subscription resumes from: the last replay id processed, kept in memory and
 * saved (coalesced) to the position store. Moves only to exact replay ids.
 */
export class ReplayCursor {
  readonly #writer: PositionWriter;
  readonly #onImprecise: () => void;
  #position: ReplayPosition | undefined;

  constructor(
    store: PositionStore,
    topic: string,
    hooks: { onWriteError(error: unknown): void; onImprecise(): void },
  ) {
    this.#writer = new PositionWriter(store, topic, hooks.onWriteError);
    this.#onImprecise = hooks.onImprecise;
  }

  get position(): ReplayPosition | undefined {
    return this.#position;
  }

  /** Resumes from a stored position (not written back). */
  restore(position: ReplayPosition): void {
    this.#position = position;
  }

  /** Forgets the position (the server rejected it): the next subscription starts from the latest. */
  forget(): void {
    this.#position = undefined;
  }

  /**
   * Moves to a processed event's replay id (or a keepalive's). `committedAt` is the event's commit
   * time: the events after it may have been published that early, so the saved time is no later.
   */
  advance(replay: ReadReplayId | undefined, now: number, committedAt?: number): void {
    if (replay === undefined) return;
    if (!replay.exact) {
      this.#onImprecise();
      return;
    }
    const savedAt = committedAt !== undefined && committedAt < now ? committedAt : now;
    this.#position = { replayId: replay.id, savedAt };
    this.#writer.save(this.#position);
  }

  flush(): Promise<void> {
    return this.#writer.flush();
  }
}
