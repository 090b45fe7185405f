import type { Flight, FlightTags } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { ReadOutcome } from './entries.js';
import { CacheError, FetchTimeoutError } from './errors.js';
import { publish } from './events.js';
import {
  eventOf,
  recordDroppedWrites,
  recordHit,
  recordMiss,
  recordReadProblem,
  recordStaleHit,
} from './observe.js';
import type { Scope } from './scope.js';
import { normalizeTags } from './tags.js';

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

export type TagsOption<T> = readonly string[] | ((value: T) => readonly string[]);

export interface WriteRequest {
  ttlMs: number | null;
  graceMs: number;
  tags: TagsOption<unknown> | undefined;
  fetchTimeoutMs: number;
}

/**
 * The get-or-set flow for one key: a synchronous hit when the store allows it, otherwise one
 * shared flight per key that reads the store and, on a miss, runs the fetcher once for every
 * concurrent caller. Invalidations reach the flight through the coalescer (no stale writes).
 */
export function getOrSet<T>(
  context: CacheContext,
  key: string,
  fetcher: Fetcher<T>,
  scope: Scope,
  request: WriteRequest,
): Promise<T> {
  const fast = context.entries.readSync(key, scope);
  if (fast !== undefined && fast.kind === 'fresh') {
    recordHit(context, scope, key);
    return Promise.resolve(fast.value as T);
  }
  let flight = context.coalescer.find(key);
  if (flight?.promise !== undefined) {
    flight.waiters++;
    scope.metrics.coalesced++;
  } else {
    flight = context.coalescer.start(key, flightTagsOf(request.tags));
    flight.promise = runFlight(context, flight, fetcher, scope, request, fast);
  }
  // Every caller is counted once: a hit when the flight found the entry, a miss otherwise
  // (fetched, stale, or failed), so hits + misses = calls.
  return (flight.promise as Promise<FlightOutcome>).then(
    (outcome) => {
      if (outcome.source === 'cache') {
        recordHit(context, scope, key);
      } else {
        recordMiss(context, scope, key);
        if (outcome.source === 'stale') recordStaleHit(context, scope, key, outcome.error);
      }
      return outcome.value as T;
    },
    (error: unknown) => {
      recordMiss(context, scope, key);
      throw error;
    },
  );
}

interface FlightOutcome {
  readonly source: 'cache' | 'fetch' | 'stale';
  readonly value: unknown;
  /** For `stale`: the fetch error the stale value stands in for. */
  readonly error?: unknown;
}

function flightTagsOf(tags: TagsOption<unknown> | undefined): FlightTags {
  if (tags === undefined) return { mode: 'none' };
  if (typeof tags === 'function') return { mode: 'derived' };
  return tags.length === 0 ? { mode: 'none' } : { mode: 'static', tags };
}

async function runFlight(
  context: CacheContext,
  flight: Flight,
  fetcher: Fetcher<unknown>,
  scope: Scope,
  request: WriteRequest,
  known: ReadOutcome | undefined,
): Promise<FlightOutcome> {
  try {
    const outcome = known ?? (await context.entries.read(flight.key, scope));
    if (outcome.kind === 'fresh') return { source: 'cache', value: outcome.value };
    recordReadProblem(context, scope, flight.key, outcome);
    const stale = outcome.kind === 'stale' ? outcome : undefined;
    return await fetchAndStore(context, flight, fetcher, scope, request, stale?.value, stale !== undefined);
  } finally {
    context.coalescer.finish(flight);
  }
}

async function fetchAndStore(
  context: CacheContext,
  flight: Flight,
  fetcher: Fetcher<unknown>,
  scope: Scope,
  request: WriteRequest,
  staleValue: unknown,
  hasStale: boolean,
): Promise<FlightOutcome> {
  // Static tags are snapshotted before the fetch: an invalidation during the fetch then changes
  // a token the entry already recorded, so the write is stale for every process, not only this one.
  const staticTags = Array.isArray(request.tags) ? normalizeTags(request.tags) : [];
  const snapshot =
    staticTags.length > 0 ? await context.tags.snapshot(staticTags).catch(() => undefined) : undefined;

  let value: unknown;
  try {
    value = await runFetcher(context, flight.key, fetcher, scope, request.fetchTimeoutMs, staleValue);
  } catch (error) {
    if (hasStale) {
      return { source: 'stale', value: staleValue, error };
    }
    throw error;
  }
  if (value === undefined) return { source: 'fetch', value };

  const prepared = prepareFetched(context, scope, flight.key, value);
  const derivedTags =
    typeof request.tags === 'function' ? deriveTags(request.tags, prepared.returned, scope) : [];
  if (!flight.mayWrite(derivedTags)) return { source: 'fetch', value: prepared.returned };
  if (snapshot instanceof Error) {
    recordDroppedWrites(context, scope, flight.key, snapshot);
    return { source: 'fetch', value: prepared.returned };
  }
  try {
    const tags = derivedTags.length > 0 ? await context.tags.snapshot(derivedTags) : snapshot;
    // Re-check: an invalidation may have landed while the derived tags were being snapshotted.
    if (flight.mayWrite(derivedTags)) {
      await context.entries.write(flight.key, prepared.stored, request.ttlMs, request.graceMs, tags);
    }
  } catch (error) {
    recordDroppedWrites(context, scope, flight.key, error);
  }
  return { source: 'fetch', value: prepared.returned };
}

function prepareFetched(context: CacheContext, scope: Scope, key: string, value: unknown) {
  try {
    return context.entries.prepare(value, scope, key);
  } catch (error) {
    scope.metrics.fetchErrors++;
    publish('fetchError', () => ({ ...eventOf(context, scope, key), error }));
    throw error;
  }
}

function deriveTags(derive: (value: unknown) => readonly string[], value: unknown, scope: Scope): string[] {
  try {
    return normalizeTags(derive(value));
  } catch (error) {
    scope.metrics.fetchErrors++;
    throw error instanceof CacheError
      ? error
      : new CacheError('E_INVALID_OPTION', 'the tags function threw', { cause: error });
  }
}

async function runFetcher(
  context: CacheContext,
  key: string,
  fetcher: Fetcher<unknown>,
  scope: Scope,
  timeoutMs: number,
  staleValue: unknown,
): Promise<unknown> {
  const controller = new AbortController();
  const onClose = () => controller.abort(context.lifetime.signal.reason);
  context.lifetime.signal.addEventListener('abort', onClose, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  scope.metrics.fetches++;
  try {
    const fetched = Promise.resolve().then(() => fetcher({ key, signal: controller.signal, staleValue }));
    if (timeoutMs <= 0) return await fetched;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new FetchTimeoutError(timeoutMs, { key });
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    return await Promise.race([fetched, timeout]);
  } catch (error) {
    scope.metrics.fetchErrors++;
    publish('fetchError', () => ({
      ...eventOf(context, scope, key),
      durationMs: performance.now() - started,
      error,
    }));
    throw error;
  } finally {
    clearTimeout(timer);
    context.lifetime.signal.removeEventListener('abort', onClose);
    const durationMs = performance.now() - started;
    scope.metrics.fetchLatency.record(durationMs);
    publish('fetch', () => ({ ...eventOf(context, scope, key), durationMs }));
  }
}
