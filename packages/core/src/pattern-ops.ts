import type { CacheContext } from './context.js';
import { assertValidPattern, escapeGlob, globToRegExp, KEY_SEPARATOR } from './keys.js';

/**
 * Pattern operations are scoped to the cache's prefix: the user's glob is appended to the
 * escaped prefix and separator, so `bff` never reaches `bffx:...`, and internal keys (which live
 * after a double separator, `bff::tag:...`) are filtered out of every result.
 */
export function storePatternOf(context: CacheContext, pattern: unknown): string {
  assertValidPattern(pattern, context.maxKeyBytes);
  return escapeGlob(context.prefix) + KEY_SEPARATOR + pattern;
}

/** Batches of full store keys of user entries matching the pattern. */
export async function* scanStoreKeys(context: CacheContext, pattern: unknown): AsyncGenerator<string[]> {
  context.assertOpen();
  const storePattern = storePatternOf(context, pattern);
  const userStart = context.prefix.length + KEY_SEPARATOR.length;
  for await (const batch of context.store.scan(storePattern)) {
    const entries = batch.filter(
      (key) => key.startsWith(KEY_SEPARATOR, userStart) === false && key.length > userStart,
    );
    if (entries.length > 0) yield entries;
  }
}

export async function* scanUserKeys(context: CacheContext, pattern: unknown): AsyncGenerator<string> {
  const userStart = context.prefix.length + KEY_SEPARATOR.length;
  for await (const batch of scanStoreKeys(context, pattern)) {
    for (const key of batch) yield key.slice(userStart);
  }
}

export async function countByPattern(context: CacheContext, pattern: unknown): Promise<number> {
  let count = 0;
  for await (const batch of scanStoreKeys(context, pattern)) count += batch.length;
  return count;
}

export async function deleteByPattern(context: CacheContext, pattern: unknown): Promise<number> {
  const storePattern = storePatternOf(context, pattern);
  // Fetches running for matching keys lose: their results are returned but not written.
  const matcher = globToRegExp(storePattern);
  context.coalescer.invalidateMatching((key) => matcher.test(key));
  let deleted = 0;
  for await (const batch of scanStoreKeys(context, pattern)) {
    await context.store.deleteMany(batch);
    deleted += batch.length;
  }
  return deleted;
}

export async function memoryUsageByPattern(context: CacheContext, pattern: unknown): Promise<number> {
  let bytes = 0;
  for await (const batch of scanStoreKeys(context, pattern)) {
    for (const size of await context.store.memoryUsage(batch)) bytes += size ?? 0;
  }
  return bytes;
}
