import type { Flight, FlightTags } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { ReadOutcome } from './entries.js';
import { CacheError, FetchTimeoutError } from './errors.js';
import { publish } from './events.js';
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
    scope.metrics.hits++;
    return Promise.resolve(fast.value as T);
  }
  const running = context.coalescer.find(key);
  if (running?.promise !== undefined) {
    running.waiters++;
    scope.metrics.coalesced++;
    return running.promise.then((outcome) => settleJoined<T>(outcome as FlightOutcome, scope));
  }
  const flight = context.coalescer.start(key, flightTagsOf(request.tags));
  const promise = runFlight(context, flight, fetcher, scope, request, fast);
  flight.promise = promise;
  return promise.then((outcome) => {
    if (outcome.source === 'cache') scope.metrics.hits++;
    else scope.metrics.misses++;
    return outcome.value as T;
  });
}

interface FlightOutcome {
  readonly source: 'cache' | 'fetch' | 'stale';
  readonly value: unknown;
}

function settleJoined<T>(outcome: FlightOutcome, scope: Scope): T {
  if (outcome.source === 'cache') scope.metrics.hits++;
  else scope.metrics.misses++;
  if (outcome.source === 'stale') scope.metrics.staleHits++;
  return outcome.value as T;
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
    countReadProblem(context, scope, flight.key, outcome);
    const stale = outcome.kind === 'stale' ? outcome : undefined;
    return await fetchAndStore(context, flight, fetcher, scope, request, stale?.value, stale !== undefined);
  } finally {
    context.coalescer.finish(flight);
  }
}

export function countReadProblem(
  context: CacheContext,
  scope: Scope,
  key: string,
  outcome: ReadOutcome,
): void {
  if (outcome.kind === 'corrupt') {
    scope.metrics.corruptEntries++;
    publish('corruptEntry', () => eventOf(context, scope, key));
  } else if (outcome.kind === 'error') {
    scope.metrics.storeErrors++;
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
      scope.metrics.staleHits++;
      publish('staleHit', () => ({ ...eventOf(context, scope, flight.key), error }));
      return { source: 'stale', value: staleValue };
    }
    throw error;
  }
  if (value === undefined) return { source: 'fetch', value };

  const prepared = prepareFetched(context, scope, flight.key, value);
  const derivedTags =
    typeof request.tags === 'function' ? deriveTags(request.tags, prepared.returned, scope) : [];
  if (!flight.mayWrite(derivedTags)) return { source: 'fetch', value: prepared.returned };
  if (staticTags.length > 0 && snapshot === undefined) {
    scope.metrics.droppedWrites++;
    return { source: 'fetch', value: prepared.returned };
  }
  try {
    const tags = derivedTags.length > 0 ? await context.tags.snapshot(derivedTags) : snapshot;
    // Re-check: an invalidation may have landed while the derived tags were being snapshotted.
    if (flight.mayWrite(derivedTags)) {
      await context.entries.write(flight.key, prepared.stored, request.ttlMs, request.graceMs, tags);
    }
  } catch {
    scope.metrics.storeErrors++;
    scope.metrics.droppedWrites++;
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

export function eventOf(context: CacheContext, scope: Scope, key: string) {
  return { cache: context.prefix, domain: scope.metrics.domain, bucket: scope.metrics.bucket, key };
}
