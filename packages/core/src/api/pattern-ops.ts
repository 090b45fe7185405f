import { CacheError } from '../errors.js';
import type { CacheContext } from '../flight/context.js';
import { compileGlob } from '../keys/glob.js';
import { assertValidPattern, escapeGlob, KEY_SEPARATOR } from '../keys/keys.js';

/**
 * Pattern operations are scoped to the cache's prefix: the user's glob is appended to the
 * escaped prefix and separator, so `bff` never reaches `bffx:...`, and internal keys (which live
 * after a double separator, `bff::tag:...`) are filtered out of every result.
 */
export function storePatternOf(context: CacheContext, pattern: unknown): string {
  assertValidPattern(pattern, context.maxKeyBytes);
  if (context.store.driver.scanMode === 'none') {
    throw new CacheError(
      'E_UNSUPPORTED',
      `store ${context.store.name} cannot list keys: pattern operations need a scan capability or an iterator`,
      { store: context.store.name },
    );
  }
  return escapeGlob(context.prefix) + KEY_SEPARATOR + pattern;
}

/**
 * Batches of full store keys of user entries matching the pattern, each key once. Core re-checks
 * the prefix rather than trusting the store's scan, and de-duplicates because Redis SCAN may
 * return a key twice (the set is bounded by the number of matching keys).
 */
export async function* scanStoreKeys(context: CacheContext, pattern: unknown): AsyncGenerator<string[]> {
  context.assertOpen();
  const storePattern = storePatternOf(context, pattern);
  const userPrefix = context.prefix + KEY_SEPARATOR;
  const internalPrefix = userPrefix + KEY_SEPARATOR;
  const seen = new Set<string>();
  for await (const batch of context.store.scan(storePattern)) {
    const entries: string[] = [];
    for (const key of batch) {
      if (!key.startsWith(userPrefix) || key.startsWith(internalPrefix) || key.length === userPrefix.length)
        continue;
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push(key);
    }
    if (entries.length > 0) yield entries;
  }
}

/**
 * Batches of full store keys whose entries are live: not past their lifetime by the cache's
 * clock, not killed by a tag invalidation, readable. Costs one read per batch. A batch the store
 * failed to read rejects: a count that quietly skipped it would look like an answer.
 */
async function* scanLiveKeys(context: CacheContext, pattern: unknown): AsyncGenerator<string[]> {
  for await (const batch of scanStoreKeys(context, pattern)) {
    const outcomes = await context.entries.readMany(batch, context.defaultScope);
    for (const outcome of outcomes) if (outcome.kind === 'error') throw outcome.error;
    const live = batch.filter((_, index) => {
      const kind = outcomes[index]?.kind;
      return kind === 'fresh' || kind === 'stale';
    });
    if (live.length > 0) yield live;
  }
}

export async function* scanUserKeys(context: CacheContext, pattern: unknown): AsyncGenerator<string> {
  const userStart = context.prefix.length + KEY_SEPARATOR.length;
  for await (const batch of scanLiveKeys(context, pattern)) {
    for (const key of batch) yield key.slice(userStart);
  }
}

/** Live entries matching the pattern. */
export async function countByPattern(context: CacheContext, pattern: unknown): Promise<number> {
  let count = 0;
  for await (const batch of scanLiveKeys(context, pattern)) count += batch.length;
  return count;
}

export interface DeleteByPatternOptions {
  /**
   * Called after each batch is deleted with the running total, so a long delete (an operator's
   * tool, a migration) can show progress. An exception it throws stops the delete.
   */
  onProgress?: (deleted: number) => void;
}

/**
 * Deletes every matching entry, dead or alive (dead ones still hold memory); resolves to how
 * many keys were removed.
 */
export async function deleteByPattern(
  context: CacheContext,
  pattern: unknown,
  options?: DeleteByPatternOptions,
): Promise<number> {
  const onProgress = options?.onProgress;
  const storePattern = storePatternOf(context, pattern);
  // Fetches running for matching keys lose: their results are returned but not written.
  const matcher = compileGlob(storePattern);
  context.coalescer.invalidateMatching((key) => matcher.test(key));
  // Other processes' fetches for matching keys lose too, even for keys with no entry yet.
  await context.store.leases?.revokeMatching(storePattern);
  let deleted = 0;
  for await (const batch of scanStoreKeys(context, pattern)) {
    await context.store.deleteMany(batch);
    deleted += batch.length;
    onProgress?.(deleted);
  }
  return deleted;
}

/** Bytes held by every matching entry, dead or alive: what the store really spends. */
export async function memoryUsageByPattern(context: CacheContext, pattern: unknown): Promise<number> {
  let bytes = 0;
  for await (const batch of scanStoreKeys(context, pattern)) {
    for (const size of await context.store.memoryUsage(batch)) bytes += size ?? 0;
  }
  return bytes;
}
