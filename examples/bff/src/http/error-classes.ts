import { isCacheError } from '@org/cache-core';
import { NotFoundError, UpstreamError } from '../upstream/errors.js';
import { HttpError } from './errors.js';

/**
 * The HTTP answer for an error a route let through. The cache hands a fetcher's own error to
 * its callers unchanged, so an upstream failure arrives here as the upstream's error: 502, since
 * nothing cached could answer instead.
 */
export function classifyError(error: unknown): HttpError | undefined {
  if (error instanceof NotFoundError) return new HttpError(404, 'NOT_FOUND', error.message);
  if (error instanceof UpstreamError)
    return new HttpError(502, 'UPSTREAM_ERROR', `${error.upstream}: ${error.message}`);
  if (isCacheError(error, 'E_FETCH_TIMEOUT'))
    return new HttpError(504, 'UPSTREAM_TIMEOUT', `the upstream did not answer in time: ${error.message}`);
  if (isCacheError(error, 'E_INVALID_EVENT')) return new HttpError(400, 'E_INVALID_EVENT', error.message);
  // Only the CDC publisher lets a store error through (reads fall back to the source).
  if (
    isCacheError(error, 'E_STORE_UNAVAILABLE') ||
    isCacheError(error, 'E_STORE_TIMEOUT') ||
    isCacheError(error, 'E_STORE_ERROR')
  )
    return new HttpError(503, 'CDC_UNAVAILABLE', `the change could not be published: ${error.message}`);
  if (isCacheError(error, 'E_CLOSED'))
    return new HttpError(503, 'SHUTTING_DOWN', 'the service is shutting down');
  return undefined;
}
