import { CacheError } from '../errors.js';
import { type Duration, MAX_TTL_MS, parseDuration, parseTimeout } from './duration.js';

/**
 * How a cache, a domain or a bucket treats time around a fetch. Each level inherits what the
 * level above gives and may override any of it; a `getOrSet` call may override it once more.
 */
export interface FreshnessOptions {
  /** How long past freshness an entry is kept, to be served if its fetcher fails (or is slow). */
  grace?: Duration;
  /** Deadline for a fetcher; its `signal` is aborted then. `0` = none. */
  fetchTimeout?: Duration;
  /**
   * With a stale value at hand (inside `grace`), how long callers wait for the fetch before they
   * get the stale value; the fetch goes on in the background up to `fetchTimeout`. Must be below
   * `fetchTimeout`. `0` = off (callers wait for the fetch).
   */
  softTimeout?: Duration;
  /**
   * A fraction of an entry's fresh window, in (0, 1): a `getOrSet` hit past it returns the cached
   * value and starts one background refresh (one per cluster on stores with leases). `false` = off.
   */
  eagerRefresh?: number | false;
}

/** `FreshnessOptions` resolved to milliseconds; `0` means off for the last three. */
export interface FreshnessSettings {
  readonly graceMs: number;
  readonly fetchTimeoutMs: number;
  readonly softTimeoutMs: number;
  readonly eagerRefresh: number;
}

/** A cache's settings when its options say nothing. */
export const DEFAULT_FRESHNESS: FreshnessSettings = Object.freeze({
  graceMs: 0,
  fetchTimeoutMs: 30_000,
  softTimeoutMs: 0,
  eagerRefresh: 0,
});

/**
 * `options` over `parent`, validated. `where` names the level in errors (`cache`, `orders`,
 * `orders.detail`, `getOrSet`). Throws E_INVALID_OPTION.
 */
export function resolveFreshness(
  parent: FreshnessSettings,
  options: FreshnessOptions,
  where: string,
): FreshnessSettings {
  const settings: FreshnessSettings = {
    graceMs: options.grace === undefined ? parent.graceMs : parseDuration(options.grace, `${where}: grace`),
    fetchTimeoutMs:
      options.fetchTimeout === undefined
        ? parent.fetchTimeoutMs
        : parseTimeout(options.fetchTimeout, `${where}: fetchTimeout`),
    softTimeoutMs:
      options.softTimeout === undefined
        ? parent.softTimeoutMs
        : parseTimeout(options.softTimeout, `${where}: softTimeout`),
    eagerRefresh:
      options.eagerRefresh === undefined
        ? parent.eagerRefresh
        : parseEagerRefresh(options.eagerRefresh, `${where}: eagerRefresh`),
  };
  // Checked on the pair in effect, wherever each half came from: a bucket's fetchTimeout below
  // the cache's softTimeout is as wrong as both given at once.
  if (
    settings.softTimeoutMs > 0 &&
    settings.fetchTimeoutMs > 0 &&
    settings.softTimeoutMs >= settings.fetchTimeoutMs
  ) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${where}: softTimeout (${settings.softTimeoutMs} ms) must be less than fetchTimeout (${settings.fetchTimeoutMs} ms)`,
    );
  }
  return settings;
}

function parseEagerRefresh(value: unknown, what: string): number {
  if (value === false) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${what} must be a fraction of the entry's ttl between 0 and 1 (exclusive), or false; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Checks a `jitter` fraction: finite, in [0, 1). Throws E_INVALID_OPTION. */
export function parseJitter(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${what} must be a fraction in [0, 1) (0.1 spreads lifetimes by up to +-10%); got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * A fresh window spread by up to +-`jitter` of itself, so entries written together do not expire
 * (and refresh) together. Whole milliseconds, at least 1 and at most the longest lifetime.
 */
export function jittered(ttlMs: number, jitter: number, random: () => number = Math.random): number {
  if (jitter === 0) return ttlMs;
  const spread = Math.round(ttlMs * (1 + (random() * 2 - 1) * jitter));
  return Math.min(MAX_TTL_MS, Math.max(1, spread));
}
