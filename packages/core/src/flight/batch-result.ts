import { CacheError } from '../errors.js';

/**
 * What a batch fetcher returns: a Map from the key (or bucket id) it was given to its value, or an
 * array aligned with the keys it was given. A key left out (or `undefined`) is a miss. A Map's
 * keys are compared as keys, not by identity: for a bucket, `42` and `'42'` name one id.
 */
export type BatchResult<T> = ReadonlyMap<unknown, T | undefined> | ReadonlyArray<T | undefined>;

/** What a batch fetcher receives besides its keys. */
export interface BatchFetchContext {
  /** Aborted when the fetch times out or the cache closes: pass it to fetch/HTTP clients. */
  readonly signal: AbortSignal;
}

export type BatchFetcher<K, T> = (
  keys: K[],
  context: BatchFetchContext,
) => BatchResult<T> | Promise<BatchResult<T>>;

/**
 * The values a batch fetcher returned, by full key, for the keys it was asked. A Map's keys go
 * through `fullKeyOf` (so `42` and `'42'` name one bucket id, and array ids compare by value);
 * keys it was not asked are ignored (no lease or flight covers them, so they are not stored). A
 * result of another shape, an array of another length, or a Map key that is not a valid key is
 * refused with E_INVALID_VALUE: the fetch fails, as if the fetcher had thrown.
 */
export function valuesByKey(
  result: unknown,
  asked: readonly string[],
  fullKeyOf: (handle: unknown) => string,
): Map<string, unknown> {
  const values = new Map<string, unknown>();
  if (Array.isArray(result)) {
    if (result.length !== asked.length) {
      throw new CacheError(
        'E_INVALID_VALUE',
        `the batch fetcher returned an array of ${result.length} values for ${asked.length} keys: an array must be aligned with its keys`,
      );
    }
    for (const [index, key] of asked.entries()) values.set(key, result[index]);
    return values;
  }
  if (!(result instanceof Map)) {
    throw new CacheError(
      'E_INVALID_VALUE',
      `the batch fetcher must return a Map or an array aligned with its keys, got ${describe(result)}`,
    );
  }
  const wanted = new Set(asked);
  for (const [handle, value] of result) {
    let key: string;
    try {
      key = fullKeyOf(handle);
    } catch (error) {
      throw new CacheError(
        'E_INVALID_VALUE',
        `the batch fetcher returned a Map with an invalid key ${describe(handle)}`,
        { cause: error },
      );
    }
    if (wanted.has(key)) values.set(key, value);
  }
  return values;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
}
