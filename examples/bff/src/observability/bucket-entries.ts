import type { Cache } from '@org/cache-core';
import type { BucketReport } from './bucket-stats.js';

/** How often entries are counted: a scan of the store per bucket, so not on every dashboard poll. */
export const ENTRIES_INTERVAL_MS = 5_000;

/**
 * Entries per bucket (`cache.countByPattern('<domain>:<bucket>:*')`), counted every few seconds
 * in the background and read from memory by the dashboard. One count at a time; a bucket whose
 * count failed (store down) is dropped from the map, so the dashboard shows "unknown" rather
 * than a stale number.
 */
export class BucketEntries {
  readonly #counts = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly cache: Cache,
    private readonly buckets: () => readonly BucketReport[],
  ) {}

  start(): void {
    this.refresh();
    this.#timer = setInterval(() => this.refresh(), ENTRIES_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops counting and waits for a count in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /** Starts a count unless one is running; resolves when it is done. */
  refresh(): Promise<void> {
    this.#running ??= this.#countAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #countAll(): Promise<void> {
    for (const { domain, bucket } of this.buckets()) {
      const id = `${domain}:${bucket}`;
      try {
        this.#counts.set(id, await this.cache.countByPattern(`${id}:*`));
      } catch {
        this.#counts.delete(id);
      }
    }
  }
}
