import pMemoize from 'p-memoize';
import { CacheError } from '../errors.js';
import type { CacheContext } from '../flight/context.js';
import type { Fetcher } from '../flight/types.js';
import type { GetOrSetOptions } from './operations.js';

/** The cache's `getOrSet`, which a memoized call goes through. */
export type GetOrSet = <T>(key: string, fetcher: Fetcher<T>, options?: GetOrSetOptions<T>) => Promise<T>;

export interface MemoizeOptions<Args extends unknown[], T> extends GetOrSetOptions<T> {
  /** The cache key for a call, e.g. `(id) => cacheKey('catalog', 'product', id)`. */
  key: (...args: Args) => string;
}

/**
 * `cache.memoize(fn, { key })`: results live in the cache (shared across processes on a shared
 * store, with TTL, tags and metrics), and concurrent calls with the same key share one call.
 *
 * p-memoize supplies the function wrapper (name and length preserved, in-flight sharing per
 * key). Its in-flight key includes the coalescer's invalidation epoch, so a call made after an
 * invalidation never joins a call that started before it; storage goes through `getOrSet`,
 * which owns expiry, tags and the no-stale-write rule.
 */
export function memoize<Args extends unknown[], T>(
  getOrSet: GetOrSet,
  context: CacheContext,
  fn: (...args: Args) => Promise<T> | T,
  options: MemoizeOptions<Args, T>,
): (...args: Args) => Promise<T> {
  if (typeof fn !== 'function') throw new CacheError('E_INVALID_OPTION', 'memoize() needs a function');
  if (typeof options?.key !== 'function')
    throw new CacheError('E_INVALID_OPTION', 'memoize() needs options.key(...args)');
  const { key, ...callOptions } = options;
  const argumentsByCall = new Map<string, Args>();
  const memoized = pMemoize(
    (callKey: string) => {
      const args = argumentsByCall.get(callKey) as Args;
      return getOrSet(keyOf(callKey), () => fn(...args), callOptions);
    },
    { cache: false, cacheKey: ([callKey]) => callKey },
  );
  const memoizedCall = (...args: Args): Promise<T> => {
    let userKey: string;
    try {
      userKey = key(...args);
      context.fullKey(userKey);
    } catch (error) {
      return Promise.reject(error);
    }
    const callKey = `${context.coalescer.epoch}\u0000${userKey}`;
    // p-memoize calls the wrapped function synchronously when it does not join a running call
    // (`cache: false` means no await before it), so the arguments only need to live for this call.
    argumentsByCall.set(callKey, args);
    try {
      return memoized(callKey) as Promise<T>;
    } finally {
      argumentsByCall.delete(callKey);
    }
  };
  // Keep the wrapped function's name and arity, as a drop-in replacement should.
  Object.defineProperty(memoizedCall, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(memoizedCall, 'length', { value: fn.length, configurable: true });
  return memoizedCall;
}

function keyOf(callKey: string): string {
  return callKey.slice(callKey.indexOf('\u0000') + 1);
}
