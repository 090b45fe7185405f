/** A write's tags: a list, or a function of the value that derives them once it is known. */
export type TagsOption<T> = readonly string[] | ((value: T) => readonly string[]);

/** What a call asks of the value it writes, resolved once from the call's options and its scope. */
export interface WriteRequest {
  ttlMs: number | null;
  graceMs: number;
  tags: TagsOption<unknown> | undefined;
  fetchTimeoutMs: number;
  /** With a stale value at hand, how long callers wait for the fetch; `0` = until it ends. */
  softTimeoutMs: number;
  /** Fraction of the fresh window past which a hit starts a background refresh; `0` = never. */
  eagerRefresh: number;
  /** Fraction by which the fresh window is spread at write time (`ttlMs` +- up to `jitter * ttlMs`). */
  jitter: number;
}
