import { CacheError } from '@org/cache-core';

/**
 * Translates the TTL a caller gives to a write (keyv's `set(key, value, ttl)`, in ms) into what
 * CacheableMemory needs: whole milliseconds, or `undefined` for no expiry. A result <= 0 means the
 * entry is already dead and must not be stored.
 *
 * - `undefined` / `null`: the store's default TTL (none unless configured).
 * - `0` or `Infinity`: no expiry. keyv reads 0 as "never", but CacheableMemory would expire it at
 *   once, so it must never reach CacheableMemory as 0.
 * - A fraction is rounded up, so 0.5 ms neither becomes "never" nor "already expired".
 * - A negative TTL is a lifetime that already ended (a remaining lifetime computed late, say).
 * - NaN or a non-number is a caller bug: refused, rather than guessing "forever" or "never".
 */
export function lifetimeMs(ttl: unknown, defaultTtlMs: number | undefined): number | undefined {
  if (ttl === undefined || ttl === null) return defaultTtlMs;
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new CacheError('E_INVALID_OPTION', `ttl must be a number of ms, got ${String(ttl)}`, {
      store: 'memory',
    });
  }
  if (ttl === 0 || ttl === Number.POSITIVE_INFINITY) return undefined;
  if (ttl < 0) return -1;
  return Math.ceil(ttl);
}
