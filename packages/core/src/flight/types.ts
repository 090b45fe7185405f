import type { Duration } from '../config/duration.js';

/**
 * The shapes a read's flight is made of, apart from the code that runs one, so that the context,
 * the records and the flight's steps can share them without importing each other.
 */

/**
 * How a fetched value may be written: plainly; through a cross-process lease (the write only
 * lands if no invalidation revoked the lease); or not at all (another process holds the lease
 * and will write; this process fetched only because it waited too long).
 */
export type WritePlan = { kind: 'plain' } | { kind: 'lease'; token: string } | { kind: 'none' };

/** Cross-process lease settings, resolved from the `lease` cache option. */
export interface LeaseSettings {
  /** How long a lease lives: a crashed holder blocks nobody for longer. */
  ttlMs: number;
  /** How long a process waits for another's fetch before fetching itself. */
  waitMs: number;
}

export interface FlightOutcome {
  /** `cache`: found fresh; `remote`: written by another process while this one waited. */
  readonly source: 'cache' | 'remote' | 'fetch' | 'stale';
  readonly value: unknown;
  /** For `stale`: the fetch error the stale value stands in for. */
  readonly error?: unknown;
  /** For `fetch`: the tags known only once the value was (derived, or added by the fetcher). */
  readonly lateTags?: readonly string[];
}

/**
 * An entry past its freshness but inside its grace window: served if the fetch fails, or runs
 * past its soft timeout. For a background refresh, the current (still fresh) entry.
 */
export interface StaleEntry {
  readonly value: unknown;
  /** When the entry was written (the cache clock's milliseconds). */
  readonly createdAt: number;
  /** Until when it may be served at all; `null` = no end. */
  readonly livesUntil: number | null;
}

/** What a fetcher receives. */
export interface FetchContext {
  /** The full key being fetched (prefix included). */
  readonly key: string;
  /** Aborted when the fetch times out or the cache closes: pass it to fetch/HTTP clients. */
  readonly signal: AbortSignal;
  /**
   * The entry past its freshness but inside its grace window, with its age in ms (since it was
   * written), or `undefined`. Holds what a conditional request needs (an ETag kept in the value).
   */
  readonly stale: { readonly value: unknown; readonly age: number } | undefined;
  /** @deprecated use `stale?.value`. */
  readonly staleValue: unknown;
  /** This value's fresh window, overriding the call's `ttl` (same strategy kind). */
  setTtl(ttl: Duration): void;
  /**
   * Tags the value depends on, added to the call's tags. Call it as early as possible (before the
   * upstream request when the tags are known from the key): across processes the value is
   * protected from invalidations of these tags from this call on.
   */
  setTags(tags: readonly string[]): void;
  /** The value the fetcher returns goes to its callers; nothing is stored. */
  skip(): void;
  /**
   * `return ctx.notModified()`: the upstream says the stale value is still current. Callers get
   * it and it is stored again with a new lifetime. Throws `E_NO_STALE_VALUE` when `stale` is
   * undefined (the fetch then fails as if the fetcher had thrown it). It returns a marker the
   * cache recognises; typed `never` so that `return ctx.notModified()` fits any fetcher.
   */
  notModified(): never;
}

export type Fetcher<T> = (context: FetchContext) => T | Promise<T>;
