import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Cache events on `node:diagnostics_channel`, so exporters (OpenTelemetry, Prometheus, logs) can
 * subscribe without core depending on them. Publishing is skipped when nobody listens.
 *
 * @example
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe(cacheChannels.miss, (event) => log(event));
 */
export const cacheChannels = {
  hit: 'org-cache:hit',
  miss: 'org-cache:miss',
  staleHit: 'org-cache:stale-hit',
  /** A fetch ran past its `softTimeout`: its callers got the stale value, the fetch goes on. */
  softTimeout: 'org-cache:soft-timeout',
  /** A background refresh (`eagerRefresh`) ended: `durationMs`, and `error` if it failed. */
  refresh: 'org-cache:refresh',
  fetch: 'org-cache:fetch',
  fetchError: 'org-cache:fetch-error',
  invalidate: 'org-cache:invalidate',
  storeError: 'org-cache:store-error',
  corruptEntry: 'org-cache:corrupt-entry',
} as const;

export type CacheEventName = keyof typeof cacheChannels;

/**
 * Work with a duration, on `diagnostics_channel.tracingChannel` (`start`, `end`, `asyncStart`,
 * `asyncEnd`, `error`), so a tracer can open a span in the caller's async context on `start` and
 * close it on `asyncEnd`: `fetch` for each fetcher run, `coalesced` for each caller waiting on a
 * fetch another caller started, `store` for each store operation. Skipped when nobody listens.
 *
 * @example
 * diagnosticsChannel.tracingChannel(cacheTracingChannels.fetch).subscribe({ start, end, asyncStart, asyncEnd, error });
 */
export const cacheTracingChannels = {
  fetch: 'org-cache:fetch',
  coalesced: 'org-cache:coalesced',
  store: 'org-cache:store',
} as const;

/** The message of the `fetch` and `coalesced` tracing channels. */
export interface FetchTraceMessage {
  cache: string;
  domain: string | undefined;
  bucket: string;
  /** For logs; never a metric label or span attribute (unbounded, and may hold ids). */
  key: string;
  /** One object per fetch, shared by the fetch and the callers that joined it: an identity only. */
  flight: object;
  /**
   * For a batch fetch (`getManyOrSet`): the flight of every key it was asked (`flight` and `key`
   * are the first's), so callers that joined any of them can be linked to its one trace.
   */
  flights?: readonly object[];
  /** Set by the channel when the fetch fails. */
  error?: unknown;
}

/** The message of the `store` tracing channel. */
export interface StoreTraceMessage {
  cache: string;
  /** The store's name (`memory`, `redis`, `tiered`, a keyv adapter's). */
  store: string;
  /** `get`, `set`, `delete`, `getMany`, `setMany`, `deleteMany`, `scan`, `lease`, ... */
  operation: string;
  /** Set by the channel when the operation fails. */
  error?: unknown;
}

/**
 * The payload of every channel. `key` is for logs and traces; never use it as a metric label
 * (unbounded cardinality). `domain`/`bucket` are the labels to use.
 */
export interface CacheEvent {
  cache: string;
  domain: string | undefined;
  bucket: string;
  key?: string;
  /**
   * For `fetch`/`fetchError`: how long the fetcher ran. For `refresh`: how long the refresh took.
   * For `softTimeout`: how long the callers had waited (the soft timeout).
   */
  durationMs?: number;
  /** For `invalidate`: what kind of invalidation. */
  kind?: 'key' | 'keys' | 'tags' | 'pattern' | 'bucket';
  tags?: readonly string[];
  pattern?: string;
  error?: unknown;
}

const channels = Object.fromEntries(
  Object.entries(cacheChannels).map(([name, channel]) => [name, diagnosticsChannel.channel(channel)]),
) as Record<CacheEventName, diagnosticsChannel.Channel>;

export function publish(name: CacheEventName, event: () => CacheEvent): void {
  const channel = channels[name];
  if (channel.hasSubscribers) channel.publish(event());
}

const tracing = {
  fetch: diagnosticsChannel.tracingChannel<unknown, FetchTraceMessage>(cacheTracingChannels.fetch),
  coalesced: diagnosticsChannel.tracingChannel<unknown, FetchTraceMessage>(cacheTracingChannels.coalesced),
  store: diagnosticsChannel.tracingChannel<unknown, StoreTraceMessage>(cacheTracingChannels.store),
};

/** Runs `work` inside the `fetch` or `coalesced` tracing channel when someone listens. */
export function traceFlight<T>(
  name: 'fetch' | 'coalesced',
  message: () => FetchTraceMessage,
  work: () => Promise<T>,
): Promise<T> {
  const channel = tracing[name];
  return channel.hasSubscribers ? channel.tracePromise(work, message()) : work();
}

/** Every store operation asks: check before building the message and the closure. */
export function isStoreTraced(): boolean {
  return tracing.store.hasSubscribers;
}

export function traceStore<T>(message: StoreTraceMessage, work: () => Promise<T>): Promise<T> {
  return tracing.store.tracePromise(work, message);
}

/** For hot paths: check before building the event (or the closure that builds it). */
export function isObserved(name: CacheEventName): boolean {
  return channels[name].hasSubscribers;
}
