import { CacheError } from '@org/cache-core';
import { compileGlob, EventLoopTurns, type StoreScanOptions } from '@org/cache-core/adapter';
import type { CacheableMemory } from 'cacheable';
import { peek, walkEntries } from './entries.js';

const DEFAULT_BATCH_SIZE = 200;

/**
 * Batches of live keys matching a Redis-style glob. Consistency is SCAN's: the keys present for
 * the whole scan are yielded; a key written during the scan may be missed; a key deleted or
 * expired before it is reached is not yielded. The walk gives the event loop a turn every few
 * milliseconds, so a scan over a million keys (or a costly pattern) never blocks other callers.
 */
export async function* scanKeys(
  memory: CacheableMemory,
  pattern: string,
  options: StoreScanOptions = {},
): AsyncGenerator<string[], void> {
  const batchSize = resolveBatchSize(options.batchSize);
  const matcher = compileGlob(pattern);
  const { prefix, exact } = literalPrefix(pattern);
  // A pattern without wildcards names one key (deleteByPattern with an escaped id): one lookup.
  if (exact) {
    if (peek(memory, prefix) !== undefined) yield [prefix];
    return;
  }
  const turns = new EventLoopTurns();
  let seen = 0;
  let batch: string[] = [];
  for (const item of walkEntries(memory)) {
    const key = item.key;
    // peek, not the walked item: after a clear() the walk goes on over the old, dropped map.
    if (key.startsWith(prefix) && matcher.test(key) && peek(memory, key) !== undefined) batch.push(key);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
    const turn = turns.due(++seen + matcher.steps);
    if (turn !== undefined) await turn;
  }
  if (batch.length > 0) yield batch;
}

/**
 * The literal text before the first wildcard (`\` escapes resolved), so keys outside a prefix
 * such as `bff:orders:` are rejected with `startsWith` before the matcher runs. `exact` is true
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
