/**
 * Every error the SDK raises is a CacheError with a stable `code`. Match on `code` (or use
 * `isCacheError`) rather than `instanceof`: two copies of this package in one node_modules tree
 * produce two distinct classes.
 */
export type CacheErrorCode =
  | 'E_INVALID_KEY'
  | 'E_INVALID_PATTERN'
  | 'E_INVALID_VALUE'
  | 'E_INVALID_OPTION'
  | 'E_INVALID_ENV'
  | 'E_INVALID_EVENT'
  | 'E_STORE_ERROR'
  | 'E_STORE_TIMEOUT'
  | 'E_STORE_UNAVAILABLE'
  | 'E_FETCH_TIMEOUT'
  /** A fetcher called `ctx.notModified()` with no stale value to keep. */
  | 'E_NO_STALE_VALUE'
  | 'E_UNSUPPORTED'
  /** A codec could not decode a stored entry; through a cache it is a counted corrupt miss. */
  | 'E_CORRUPT_ENTRY'
  | 'E_CLOSED';

export interface CacheErrorContext {
  key?: string;
  store?: string;
  cause?: unknown;
}

export class CacheError extends Error {
  override readonly name: string = 'CacheError';
  readonly code: CacheErrorCode;
  readonly key?: string;
  readonly store?: string;

  constructor(code: CacheErrorCode, message: string, context: CacheErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    if (context.key !== undefined) this.key = context.key;
    if (context.store !== undefined) this.store = context.store;
  }
}

/** A store operation did not answer within its deadline. */
export class StoreTimeoutError extends CacheError {
  override readonly name = 'StoreTimeoutError';
  constructor(operation: string, timeoutMs: number, context: CacheErrorContext = {}) {
    super('E_STORE_TIMEOUT', `store ${operation} did not answer within ${timeoutMs} ms`, context);
  }
}

/** The fetcher passed to getOrSet did not settle within its deadline. */
export class FetchTimeoutError extends CacheError {
  override readonly name = 'FetchTimeoutError';
  constructor(timeoutMs: number, context: CacheErrorContext = {}) {
    super('E_FETCH_TIMEOUT', `fetcher did not settle within ${timeoutMs} ms`, context);
  }
}

export function isCacheError(error: unknown, code?: CacheErrorCode): error is CacheError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { code?: unknown };
  if (typeof candidate.code !== 'string' || !candidate.code.startsWith('E_')) return false;
  if (!(error instanceof Error)) return false;
  return code === undefined || candidate.code === code;
}

/** Wraps anything a store threw into a CacheError, keeping the original as `cause`. */
export function toStoreError(error: unknown, operation: string, store: string, key?: string): CacheError {
  if (isCacheError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new CacheError('E_STORE_ERROR', `store ${operation} failed: ${reason}`, {
    cause: error,
    store,
    key,
  });
}
