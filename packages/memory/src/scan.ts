import { CacheError, globToRegExp, type StoreScanOptions } from '@org/cache-core';
import type { CacheableMemory } from 'cacheable';
import { liveKeys, peek } from './entries.js';

const DEFAULT_BATCH_SIZE = 200;

/**
 * Batches of live keys matching a Redis-style glob. Consistency: one snapshot of the matching keys
 * is taken when the first batch is requested; each batch is then re-checked, so a key deleted or
 * expired since the snapshot is not yielded, and a key written since may be missed (as with Redis
 * SCAN, which only promises the keys present for the whole scan).
 */
export async function* scanKeys(
  memory: CacheableMemory,
  pattern: string,
  options: StoreScanOptions = {},
): AsyncGenerator<string[], void> {
  const batchSize = resolveBatchSize(options.batchSize);
  const matcher = globToRegExp(pattern);
  const { prefix, exact } = literalPrefix(pattern);
  // A pattern without wildcards names one key (deleteByPattern with an escaped id): one lookup.
  if (exact) {
    if (peek(memory, prefix) !== undefined) yield [prefix];
    return;
  }
  const snapshot = liveKeys(memory, prefix, matcher);
  for (let start = 0; start < snapshot.length; start += batchSize) {
    const batch = snapshot.slice(start, start + batchSize).filter((key) => peek(memory, key) !== undefined);
    if (batch.length > 0) yield batch;
  }
}

/**
 * The literal text before the first wildcard (`\` escapes resolved), so keys outside a prefix
 * such as `bff:orders:` are rejected with `startsWith` before the RegExp runs. `exact` is true
 * when the whole pattern is literal.
 */
export function literalPrefix(pattern: string): { prefix: string; exact: boolean } {
  let prefix = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '*' || char === '?' || char === '[') return { prefix, exact: false };
    if (char === '\\') index++;
    prefix += pattern[index] ?? '';
  }
  return { prefix, exact: true };
}

function resolveBatchSize(batchSize: number | undefined): number {
  if (batchSize === undefined) return DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new CacheError('E_INVALID_OPTION', `scan batchSize must be a positive integer, got ${batchSize}`, {
      store: 'memory',
    });
  }
  return batchSize;
}
