import type { Clock } from '../config/clock.js';
import type { Scope } from '../config/scope.js';
import type { Entries } from '../entry/entries.js';
import type { TagVersions } from '../entry/tags.js';
import type { MetricsRegistry } from '../observe/metrics-registry.js';
import type { GuardedStore } from '../store/guarded-store.js';
import type { Coalescer } from './coalescer.js';
import type { LeaseSettings } from './types.js';

/** Everything one cache instance shares between its API surface, domains and helpers. */
export interface CacheContext {
  readonly prefix: string;
  /** What metrics, traces and events call this cache: `name` or, by default, the prefix. */
  readonly name: string;
  readonly clock: Clock;
  readonly store: GuardedStore;
  readonly entries: Entries;
  readonly tags: TagVersions;
  readonly coalescer: Coalescer;
  readonly metrics: MetricsRegistry;
  readonly defaultScope: Scope;
  readonly fetchTimeoutMs: number;
  /** Cross-process leases, when the store has them and they are not disabled. */
  readonly lease: LeaseSettings | undefined;
  readonly maxKeyBytes: number;
  /** Aborted by close(): running fetchers see it through ctx.signal. */
  readonly lifetime: AbortController;
  /** Prefix + separator + user key, after validating the user key. */
  fullKey(key: unknown): string;
  /** Throws E_CLOSED once the cache is closed. */
  assertOpen(): void;
}
