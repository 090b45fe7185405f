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
}

/** An entry past its freshness but inside its grace window: served if the fetch fails. */
export interface StaleEntry {
  readonly value: unknown;
}

/** What a fetcher receives. */
export interface FetchContext {
  /** The full key being fetched (prefix included). */
  readonly key: string;
  /** Aborted when the fetch times out or the cache closes: pass it to fetch/HTTP clients. */
  readonly signal: AbortSignal;
  /** The stale value still inside its grace window, when there is one. */
  readonly staleValue: unknown;
}

export type Fetcher<T> = (context: FetchContext) => T | Promise<T>;
