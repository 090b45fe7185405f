import type { Scope } from '../config/scope.js';
import { CacheError } from '../errors.js';
import type { BatchFetcher } from '../flight/batch-result.js';
import type { CacheContext } from '../flight/context.js';
import { type BatchKey, getManyOrSet } from '../flight/get-many-or-set.js';
import { recordHit, recordMiss, recordStaleHit } from '../flight/record.js';
import { type GetOrSetOptions, resolveWrite } from './operations.js';

/**
 * `getManyOrSet` as the cache and buckets expose it: validates everything before any I/O, asks
 * each distinct key once, and answers every input position (duplicates included) with its value
 * or `undefined`. Every position is counted as getOrSet counts a call: a hit when the entry was
 * found, a miss otherwise (and a stale hit when a stale value stood in for a failed fetch), so
 * hits + misses = keys asked. Rejects with the first key's error when a key could not be answered
 * (a failed fetch without a stale value, a refused value): as getOrSet does for that key.
 */
export async function getManyOrSetValues(
  context: CacheContext,
  scope: Scope,
  handles: readonly unknown[],
  fetcher: BatchFetcher<unknown, unknown>,
  options: GetOrSetOptions<never> | undefined,
  fullKeyOf: (handle: unknown) => string,
): Promise<unknown[]> {
  context.assertOpen();
  if (!Array.isArray(handles)) throw new CacheError('E_INVALID_KEY', 'getManyOrSet() takes an array of keys');
  const keys = handles.map(fullKeyOf);
  if (typeof fetcher !== 'function')
    throw new CacheError('E_INVALID_OPTION', 'getManyOrSet() needs a batch fetcher function');
  const request = resolveWrite(scope, options);
  if (keys.length === 0) return [];

  const distinct = new Map<string, BatchKey>();
  keys.forEach((key, index) => {
    if (!distinct.has(key)) distinct.set(key, { key, handle: handles[index] });
  });
  const order = [...distinct.keys()];
  const answers = await Promise.allSettled(
    getManyOrSet({ context, scope, request, fetcher, fullKeyOf }, [...distinct.values()]),
  );
  const byKey = new Map(order.map((key, index) => [key, answers[index] as (typeof answers)[number]]));

  let failure: { error: unknown } | undefined;
  const values = keys.map((key) => {
    const answer = byKey.get(key) as (typeof answers)[number];
    if (answer.status === 'rejected') {
      recordMiss(context, scope, key);
      failure ??= { error: answer.reason };
      return undefined;
    }
    const outcome = answer.value;
    if (outcome.source === 'cache') {
      recordHit(context, scope, key);
    } else {
      recordMiss(context, scope, key);
      if (outcome.source === 'stale') recordStaleHit(context, scope, key, outcome.error);
    }
    return outcome.value;
  });
  if (failure !== undefined) throw failure.error;
  return values;
}
