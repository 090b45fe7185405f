import { parseDuration } from '../config/duration.js';
import { normalizeTags } from '../entry/tags.js';
import { CacheError } from '../errors.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { FetchContext, StaleEntry } from './types.js';

/** The one object `ctx.notModified()` returns: recognised by identity, never stored. */
export const NOT_MODIFIED: unknown = Object.freeze({});

/**
 * What a fetcher decided about its own value through its context, read once it has returned:
 * its lifetime, extra tags, whether to store it at all.
 */
export interface FetchDirectives {
  /** Overrides the call's fresh window. */
  readonly ttlMs: number | undefined;
  /** Tags added during the fetch, on top of the call's. */
  readonly tags: readonly string[];
  /** Their tokens as of when they were added; rejects if the store could not give them. */
  tagSnapshot(): Promise<Readonly<Record<string, string>> | undefined>;
  readonly skipped: boolean;
}

export const NO_DIRECTIVES: FetchDirectives = Object.freeze({
  ttlMs: undefined,
  tags: Object.freeze([]) as readonly string[],
  tagSnapshot: () => Promise.resolve(undefined),
  skipped: false,
});

/**
 * The adaptive side of a fetcher's context for one fetch. Invalid arguments throw at the call
 * (E_INVALID_OPTION) and also fail the fetch, even if the fetcher catches them: a value whose
 * lifetime or tags are not what its fetcher asked for must not be stored. Calls after the
 * fetcher has settled throw E_INVALID_OPTION and change nothing: the value is already on its way.
 */
export class FetcherControl implements FetchDirectives {
  ttlMs: number | undefined;
  skipped = false;
  /** The first invalid argument: fails the fetch. */
  invalidArgument: CacheError | undefined;
  readonly #tags = new Set<string>();
  readonly #snapshots: Array<Promise<Record<string, string>>> = [];
  #settled = false;

  constructor(
    private readonly context: CacheContext,
    private readonly flight: Flight,
    private readonly stale: StaleEntry | undefined,
    /** False when this process will not write the value (another holds the lease): no snapshots. */
    private readonly mayWrite: boolean,
  ) {}

  get tags(): readonly string[] {
    return [...this.#tags];
  }

  /** The context handed to the fetcher. */
  open(signal: AbortSignal): FetchContext {
    const stale = this.stale;
    const view =
      stale === undefined
        ? undefined
        : Object.freeze({ value: stale.value, age: Math.max(0, this.context.clock.now() - stale.createdAt) });
    return Object.freeze({
      key: this.flight.key,
      signal,
      stale: view,
      staleValue: stale?.value,
      setTtl: (ttl: unknown) => this.#setTtl(ttl),
      setTags: (tags: unknown) => this.#setTags(tags),
      skip: () => {
        this.#assertRunning('skip');
        this.skipped = true;
      },
      notModified: () => {
        this.#assertRunning('notModified');
        if (stale === undefined) {
          throw new CacheError(
            'E_NO_STALE_VALUE',
            'ctx.notModified() needs a stale value to keep: ctx.stale is undefined (nothing cached, or past its grace)',
            { key: this.flight.key },
          );
        }
        return NOT_MODIFIED as never;
      },
    }) as FetchContext;
  }

  /** The fetcher has settled: later calls are refused. */
  settle(): void {
    this.#settled = true;
  }

  tagSnapshot(): Promise<Readonly<Record<string, string>> | undefined> {
    if (this.#snapshots.length === 0) return Promise.resolve(undefined);
    return Promise.all(this.#snapshots).then((parts) => Object.assign(Object.create(null), ...parts));
  }

  #setTtl(ttl: unknown): void {
    this.#assertRunning('setTtl');
    const ttlMs = this.#check(() => {
      const parsed = parseDuration(ttl as never, 'ctx.setTtl()');
      if (parsed <= 0) throw new CacheError('E_INVALID_OPTION', 'ctx.setTtl() needs a ttl greater than 0');
      return parsed;
    });
    this.ttlMs = ttlMs;
  }

  #setTags(tags: unknown): void {
    this.#assertRunning('setTags');
    const added = this.#check(() => normalizeTags(tags)).filter((tag) => !this.#tags.has(tag));
    if (added.length === 0) return;
    for (const tag of added) this.#tags.add(tag);
    // In this process: an invalidation of these tags seen since the fetch started, or to come, marks the flight.
    this.flight.addTags(added);
    if (!this.mayWrite) return;
    // Across processes: the tokens as of now; an invalidation anywhere from now on changes them.
    const snapshot = this.context.tags.snapshot(added);
    snapshot.catch(() => {}); // awaited (and reported) at write time; not an unhandled rejection meanwhile
    this.#snapshots.push(snapshot);
  }

  #check<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      const refused =
        error instanceof CacheError
          ? error
          : new CacheError('E_INVALID_OPTION', String(error), { cause: error });
      this.invalidArgument ??= refused;
      throw refused;
    }
  }

  #assertRunning(method: string): void {
    if (this.#settled) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `ctx.${method}() was called after the fetcher settled: its value is already returned (and stored or not)`,
        { key: this.flight.key },
      );
    }
  }
}
