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
  fetch: 'org-cache:fetch',
  fetchError: 'org-cache:fetch-error',
  invalidate: 'org-cache:invalidate',
  storeError: 'org-cache:store-error',
  corruptEntry: 'org-cache:corrupt-entry',
} as const;

export type CacheEventName = keyof typeof cacheChannels;

/**
 * The payload of every channel. `key` is for logs and traces; never use it as a metric label
 * (unbounded cardinality). `domain`/`bucket` are the labels to use.
 */
export interface CacheEvent {
  cache: string;
  domain: string | undefined;
  bucket: string;
  key?: string;
  /** For `fetch`/`fetchError`: how long the fetcher ran. */
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

/** For hot paths: check before building the event (or the closure that builds it). */
export function isObserved(name: CacheEventName): boolean {
  return channels[name].hasSubscribers;
}
