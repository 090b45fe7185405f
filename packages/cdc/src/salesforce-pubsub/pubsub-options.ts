import { type Cache, CacheError, type Clock, type Duration, parseDuration } from '@org/cache-core';
import { parseTimeout } from '@org/cache-core/adapter';
import { callbackStreams } from './callback-streams.js';
import {
  type CallbackPubSubClient,
  detectPubSubApi,
  type EmitterPubSubClient,
  type PubSubApi,
  type PubSubClient,
} from './client-shapes.js';
import { emitterStreams } from './emitter-streams.js';
import { cachePositionStore, type PositionStore } from './position-store.js';
import type { TopicStreams } from './topic-stream.js';

export interface SalesforcePubSubSourceOptions {
  /** A connected `salesforce-pubsub-api-client` (v5 or v4, told apart by shape). Left open by stop(). */
  client: PubSubClient;
  /** `/data/OrderChangeEvent`, `/data/ChangeEvents`, a custom channel. */
  topic: string;
  /** Keeps the replay position in this cache's store (see `cachePositionStore`). */
  cache?: Cache;
  /** Keeps the replay position elsewhere; replaces `cache`. */
  positions?: PositionStore;
  /** How long Salesforce keeps events; an older position cannot be resumed from. Default `72h`. */
  retention?: Duration;
  /** Default `salesforce-pubsub:<topic>`. */
  name?: string;
  /**
   * Events requested per batch, 1 to 100 (the server's maximum). Default 100. The source always
   * requests a finite batch and asks for the next once the batch is applied (flow control): it
   * must be able to stop the flow when an event cannot be applied.
   */
  numRequested?: number;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Overrides the detection of the client's API: `callback` (v5) or `emitter` (v4). */
  api?: PubSubApi;
  retry?: {
    /** First back-off delay of apply retries, fail-safe retries and resubscriptions. Default `1s`. */
    initialDelay?: Duration;
    /** Back-off cap. Default `30s`. */
    maxDelay?: Duration;
    /** Attempts at applying one event before the source resubscribes from before it. Default 5. */
    applyAttempts?: number;
  };
  /** Silence (no event, no keepalive) after which health is `degraded`. Default `10m`. */
  maxSilence?: Duration;
}

export interface ResolvedPubSubOptions {
  name: string;
  topic: string;
  streams: TopicStreams;
  positions: PositionStore;
  clock: Clock;
  retentionMs: number;
  numRequested: number;
  initialDelayMs: number;
  maxDelayMs: number;
  applyAttempts: number;
  maxSilenceMs: number;
}

/** Checks the options; throws E_INVALID_OPTION naming the first problem. */
export function resolvePubSubOptions(options: SalesforcePubSubSourceOptions): ResolvedPubSubOptions {
  if (options === null || typeof options !== 'object')
    throw invalid('salesforcePubSubSource() needs options');
  const { topic, client } = options;
  if (typeof topic !== 'string' || topic.length === 0)
    throw invalid('salesforcePubSubSource() needs a topic');
  const api = options.api ?? detectPubSubApi(client);
  if (api !== 'callback' && api !== 'emitter') {
    throw invalid(
      'client is not a salesforce-pubsub-api-client (subscribe, subscribeFromReplayId, requestAdditionalEvents)',
    );
  }
  const positions = options.positions ?? (options.cache ? cachePositionStore(options.cache) : undefined);
  if (!positions) throw invalid('salesforcePubSubSource() needs a cache or a position store');
  const numRequested = options.numRequested ?? 100;
  if (!Number.isInteger(numRequested) || numRequested < 1 || numRequested > 100)
    throw invalid(`numRequested must be an integer from 1 to 100, got ${numRequested}`);
  const applyAttempts = options.retry?.applyAttempts ?? 5;
  if (!Number.isInteger(applyAttempts) || applyAttempts < 1)
    throw invalid(`retry.applyAttempts must be a positive integer, got ${applyAttempts}`);
  return {
    name: options.name ?? `salesforce-pubsub:${topic}`,
    topic,
    streams:
      api === 'callback'
        ? callbackStreams(client as CallbackPubSubClient)
        : emitterStreams(client as EmitterPubSubClient),
    positions,
    clock: options.clock ?? { now: () => Date.now() },
    retentionMs: parseDuration(options.retention ?? '72h', 'retention'),
    numRequested,
    initialDelayMs: parseTimeout(options.retry?.initialDelay ?? '1s', 'retry.initialDelay'),
    maxDelayMs: parseTimeout(options.retry?.maxDelay ?? '30s', 'retry.maxDelay'),
    applyAttempts,
    maxSilenceMs: parseTimeout(options.maxSilence ?? '10m', 'maxSilence'),
  };
}

function invalid(message: string): CacheError {
  return new CacheError('E_INVALID_OPTION', message);
}
