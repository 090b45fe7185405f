import { type Duration, parseDuration } from '../config/duration.js';
import { type FreshnessOptions, parseJitter, resolveFreshness } from '../config/freshness.js';
import type { Scope } from '../config/scope.js';
import type { TagsOption, WriteRequest } from '../config/write-request.js';
import type { ReadOutcome } from '../entry/entries.js';
import { normalizeTags } from '../entry/tags.js';
import { CacheError } from '../errors.js';
import type { CacheContext } from '../flight/context.js';
import { eventOf, recordDroppedWrites, recordHit, recordMiss, recordReadProblem } from '../flight/record.js';
import { publish } from '../observe/events.js';

export interface SetOptions<T = unknown> {
  /** Overrides the strategy's fresh window for this entry (same strategy kind). */
  ttl?: Duration;
  /** Overrides the strategy's jitter: the fresh window is spread by up to +-this fraction, in [0, 1). */
  jitter?: number;
  /** Tags this entry depends on, or a function deriving them from the value. */
  tags?: TagsOption<T>;
}

/**
 * `grace`, `fetchTimeout`, `softTimeout` and `eagerRefresh` override the bucket's (or the cache's)
 * for this call; see `FreshnessOptions`.
 */
export interface GetOrSetOptions<T = unknown> extends SetOptions<T>, FreshnessOptions {}

/** Per-call options resolved against the scope's defaults; throws E_INVALID_OPTION. */
export function resolveWrite(scope: Scope, options: GetOrSetOptions<never> | undefined): WriteRequest {
  if (options === undefined) return scope.defaults;
  if (typeof options !== 'object' || options === null)
    throw new CacheError('E_INVALID_OPTION', 'options must be an object');
  let ttlMs = scope.strategy.ttlMs;
  if (options.ttl !== undefined) {
    ttlMs = parseDuration(options.ttl, 'ttl');
    if (ttlMs <= 0) throw new CacheError('E_INVALID_OPTION', 'ttl must be greater than 0');
  }
  const tags = options.tags;
  if (tags !== undefined && typeof tags !== 'function') normalizeTags(tags);
  const freshness = resolveFreshness(scope, options, 'options');
  return {
    ttlMs,
    graceMs: freshness.graceMs,
    tags: tags as TagsOption<unknown> | undefined,
    fetchTimeoutMs: freshness.fetchTimeoutMs,
    softTimeoutMs: freshness.softTimeoutMs,
    eagerRefresh: freshness.eagerRefresh,
    jitter:
      options.jitter === undefined ? (scope.strategy.jitter ?? 0) : parseJitter(options.jitter, 'jitter'),
  };
}

/** Counts a read as a hit or a miss and returns the fresh value, if any. */
export function settleRead(context: CacheContext, scope: Scope, key: string, outcome: ReadOutcome): unknown {
  if (outcome.kind === 'fresh') {
    recordHit(context, scope, key);
    return outcome.value;
  }
  recordMiss(context, scope, key);
  recordReadProblem(context, scope, key, outcome);
  return undefined;
}

/**
 * Reads one value. Not an async function on purpose: a hit on a synchronous store resolves
 * without an await chain (each async layer costs about as much as the in-memory hit itself).
 * `fullKey` validates the key; misuse still surfaces as a rejected promise.
 */
export function readValue(context: CacheContext, scope: Scope, fullKey: () => string): Promise<unknown> {
  try {
    context.assertOpen();
    const key = fullKey();
    const fast = context.entries.readSync(key, scope);
    if (fast !== undefined) return Promise.resolve(settleRead(context, scope, key, fast));
    return context.entries
      .readFromStore(key, scope)
      .then((outcome) => settleRead(context, scope, key, outcome));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Writes one value. A set supersedes any fetch in flight for the key (its older result must not
 * land after this one). Bad input rejects; a failing store drops the write and counts it.
 */
export async function writeValue(
  context: CacheContext,
  scope: Scope,
  key: string,
  value: unknown,
  options: SetOptions<never> | undefined,
): Promise<void> {
  context.assertOpen();
  const request = resolveWrite(scope, options);
  // Untagged, the entry is encoded below before the first await: see prepareForWrite.
  const prepared = context.entries.prepareForWrite(value, scope, key, request.tags === undefined);
  const tags = tagsFor(request.tags, prepared.returned);
  context.coalescer.invalidateKeys([key]);
  try {
    const snapshot = tags.length > 0 ? await context.tags.snapshot(tags) : undefined;
    await context.entries.write(key, prepared.stored, request, snapshot);
  } catch (error) {
    // A value the codec refuses (too large for it, say) is bad input, as in setMany: not a store failure.
    if (error instanceof CacheError && error.code === 'E_INVALID_VALUE') throw error;
    recordDroppedWrites(context, scope, key, error);
  }
}

export function tagsFor(option: TagsOption<unknown> | undefined, value: unknown): string[] {
  if (option === undefined) return [];
  if (typeof option !== 'function') return normalizeTags(option);
  try {
    return normalizeTags(option(value));
  } catch (error) {
    if (error instanceof CacheError) throw error;
    throw new CacheError('E_INVALID_OPTION', 'the tags function threw', { cause: error });
  }
}

/** Deletes keys as one invalidation. Rejects if the store fails: a lost invalidation is stale data. */
export async function invalidateKeys(context: CacheContext, scope: Scope, keys: string[]): Promise<number> {
  context.assertOpen();
  context.coalescer.invalidateKeys(keys);
  scope.metrics.invalidations++;
  publish('invalidate', () => ({
    ...eventOf(context, scope, keys[0] ?? ''),
    kind: keys.length === 1 ? 'key' : 'keys',
  }));
  const results = await Promise.all(keys.map((key) => context.store.delete(key)));
  return results.filter(Boolean).length;
}

export async function invalidateTags(context: CacheContext, scope: Scope, tags: unknown): Promise<void> {
  context.assertOpen();
  const normalized = normalizeTags(tags);
  if (normalized.length === 0) return;
  context.coalescer.invalidateTags(normalized);
  scope.metrics.invalidations++;
  publish('invalidate', () => ({
    cache: context.name,
    domain: scope.metrics.domain,
    bucket: scope.metrics.bucket,
    kind: 'tags',
    tags: normalized,
  }));
  await context.tags.invalidate(normalized);
}
